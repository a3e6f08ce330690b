{#- The staging and fact shape shared by the six ledgers; columns come from the contracts
    (xiezuo_columns), never restated. -#}

{#- A ledger's rows as loaded: one row per source row of every loaded submission, with its county
    and month from the submission's registration. -#}
{% macro staging_ledger(kind) -%}
select
    r.submission_id,
    r.source_row,
    {% for c in xiezuo_columns(kind) -%}
    r.{{ c }},
    {% endfor -%}
    s.county_code as area_code,
    s.period_month
from {{ source('raw', kind ~ '_rows') }} as r
join {{ source('raw', 'submissions') }} as s using (submission_id)
{%- endmacro %}

{#- One row per ledger row of the latest accepted submission of each (county, kind, month);
    what an ID number yields besides the pseudonymous key stays out of the marts. -#}
{% macro fact_ledger(kind) -%}
select
    l.area_code,
    l.period_month,
    l.submission_id,
    l.file_sha256,
    r.source_row,
    {% for c in xiezuo_columns(kind, derived_personal=false) -%}
    r.{{ c }}{{ "," if not loop.last }}
    {% endfor %}
from {{ ref('stg_raw__' ~ kind) }} as r
join {{ ref('int_latest_submissions') }} as l using (submission_id)
where l.submission_type = '{{ kind }}'
{%- endmacro %}
