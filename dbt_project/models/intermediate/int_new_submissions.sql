-- The latest submissions whose rows the build schema's facts do not hold yet: what this build
-- adds. The facts append exactly their rows; int_indicator_values recomputes the months from the
-- earliest of them on; the reconciliation test and the mart gate check their rows one by one.
-- A build starts from the marts published before the current ones (warehouse/transform.py) or
-- from nothing: then every latest submission is new and the build is a full one.
{{ config(materialized='table', post_hook='analyze {{ this }}') }}  {#- statistics for the joins that read it #}
{%- set held = [] %}
{%- if execute %}
{%- for kind in xiezuo_kinds() %}
{%- set fact = adapter.get_relation(database=target.database, schema=var('marts_build_schema', 'marts__next'),
                                    identifier='fct_' ~ kind) %}
{%- if fact is not none %}{% do held.append((kind, fact)) %}{% endif %}
{%- endfor %}
{%- endif %}
select l.*
from {{ ref('int_latest_submissions') }} as l
{%- for kind, fact in held %}
{{ "where" if loop.first else "  and" }} not (l.submission_type = '{{ kind }}'
    and exists (select 1 from {{ fact }} as f where f.submission_id = l.submission_id))
{%- endfor %}
