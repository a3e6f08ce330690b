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
    what an ID number yields besides the pseudonymous key stays out of the marts.
    Incremental: the build starts from the marts published before the current ones
    (warehouse/transform.py); it appends the rows of the latest submissions the table does not
    hold yet (int_new_submissions) and deletes those of submissions no longer latest (replaced by
    a correction). The new rows go from raw into the fact once: through a temporary view, not a
    temporary table (postgres__get_create_table_as_sql). The not-null constraints check every row
    as it arrives; the reconciliation test checks the rows against raw and the receipts. -#}
{% macro fact_ledger(kind) -%}
{{ config(
    materialized='incremental', incremental_strategy='append', on_schema_change='fail',
    tmp_relation_type='view',
    post_hook=[
        "{{ fact_drop_replaced(this, '" ~ kind ~ "') }}",
        "{{ fact_constraints(this) }}",
        "{{ indicator_key_indexes(this, 'fct_" ~ kind ~ "') }}",
        "{{ fact_analyze_if_grown(this, '" ~ kind ~ "') }}",
    ]) }}
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
join {{ ref('int_new_submissions') }} as l using (submission_id)
where l.submission_type = '{{ kind }}'
{#- in month order: the month's BRIN (fact_constraints) finds a month's rows only where the table
    holds them month after month. Appended in the join's order, 40 months of history arriving in
    one build made later builds read far more than their months: with 41 months, a publish took
    1.8× the time it takes with one month (issue 7 bench), in month order 0.98×. Sorted only when
    the new rows span months: rows of one month are in month order as they come, and sorting a
    400k-row ledger's wide rows spilled to disk (0.56 s of its fact's 2 s, issue 7). -#}
{%- set months = 2 %}
{%- if execute %}
{%- set months = run_query("select count(distinct period_month) from " ~ ref('int_new_submissions')
                           ~ " where submission_type = '" ~ kind ~ "'").columns[0].values()[0] %}
{%- endif %}
{%- if months > 1 %}
order by l.period_month, l.submission_id
{%- endif %}
{%- endmacro %}

{#- A fact's keys: not null, enforced by PostgreSQL on every row as it is inserted; and two
    BRIN indexes, on the month and on the submission.
    Facts are appended month after month, each append in month order (fact_ledger), so block ranges
    follow the months and, within them, the submissions; a BRIN costs an insert next to nothing,
    where a btree of 100k equal months cost 0.3 s per 100k rows appended, and the unique btree on
    (submission_id, source_row) this project had before 0.4 s of a 400k-row ledger's 1.05 s
    insert, all of it WAL (issue 7). One row per submission row is checked instead by the
    reconciliation test (the added rows against raw's, every submission's rows against its
    receipt) and the mart gate's row counts (expectations/marts.yml). The submission's BRIN
    has ranges of several intervals and 32 pages, as raw's rows do (warehouse/raw.py
    SUBMISSION_INDEX): a correction finds the rows it replaces through it. A late correction only
    widens one range of the month's. -#}
{% macro fact_constraints(relation) -%}
    alter table {{ relation }}
        alter column area_code set not null, alter column period_month set not null,
        alter column submission_id set not null, alter column source_row set not null;
    create index if not exists {{ relation.identifier }}_submission on {{ relation }}
        using brin (submission_id int8_minmax_multi_ops) with (pages_per_range = 32);
    {#- the months an incremental int_indicator_values recomputes are read through this -#}
    create index if not exists {{ relation.identifier }}_period_month on {{ relation }} using brin (period_month)
{%- endmacro %}

{#- Rows of submissions that are no longer the latest (a correction replaced them). Only an
    accepted submission of the kind was ever latest (a reprocess, which may change a status or a
    kind, makes the build a full one), so those not latest now are the candidates: a short list,
    found through the index on submission_id, never a comparison of every row. -#}
{% macro fact_drop_replaced(relation, kind) -%}
    delete from {{ relation }}
    where submission_id in (
        select s.submission_id from {{ ref('stg_raw__submissions') }} as s
        where s.submission_type = '{{ kind }}' and s.status in ('accepted', 'accepted_with_warnings')
            and not exists (select 1 from {{ ref('int_latest_submissions') }} as l
                            where l.submission_id = s.submission_id))
{%- endmacro %}

{#- After an append of more than a fifth of the table (a full build, a first build after much
    history arrived), fresh statistics: with those of a table a fraction of its size, the planner
    chose nested loops over the whole fact (one build took 112 s instead of 4). Of the columns the
    build's own queries join and filter on (fact_planned_columns): statistics of every column
    cost 0.3 s per 100k rows appended, these a quarter of that; autovacuum's analyze gathers the
    rest for BI's queries. -#}
{% macro fact_analyze_if_grown(relation, kind) -%}
    do $$ begin
        if (select coalesce(sum(rows), 0) from {{ ref('int_new_submissions') }} where submission_type = '{{ kind }}')
                > 0.2 * greatest((select reltuples from pg_class where oid = '{{ relation }}'::regclass), 0) then
            analyze {{ relation }} ({{ fact_planned_columns('fct_' ~ kind) | join(', ') }});
        end if;
    end $$
{%- endmacro %}

{#- The columns of a fact that the build's queries join, filter, partition or sum on: its keys and
    those the indicators on it name (key, value, filter, latest_by) where such a name is a column;
    an expression's columns are found by the words in it that are the fact's columns. -#}
{% macro fact_planned_columns(fact) -%}
    {%- set kind = fact[4:] -%}
    {%- set columns = xiezuo_columns(kind, derived_personal=false) -%}
    {%- set names = ['area_code', 'period_month', 'submission_id', 'source_row'] -%}
    {%- for i in indicators() if i.fact == fact -%}
        {%- for word in modules.re.findall('[a-z_][a-z0-9_]*', indicator_reads(i) | join(' ')) -%}
            {%- if word in columns and word not in names -%}{%- do names.append(word) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- dbt's incremental materialization puts the new rows in a temporary table first (to compare its
    columns with the target's: on_schema_change), then inserts them from there. With
    tmp_relation_type='view' (the facts: appended once, read once) that relation is a temporary
    view: the rows are written once, not twice — a 400k-row ledger's temporary table cost its
    fact 0.5 s (issue 7). Not for a model that reads its temporary relation twice (delete+insert
    reads it to delete, then to insert: a view would run the query twice). -#}
{% macro postgres__get_create_table_as_sql(temporary, relation, sql) -%}
    {%- if temporary and config.get('tmp_relation_type') == 'view' -%}
    create temporary view {{ relation }} as (
        {{ sql }}
    );
    {%- else -%}
    {{ return(create_table_as(temporary, relation, sql)) }}
    {%- endif -%}
{%- endmacro %}
