{#- JIT compiling this wide query costs far more than it saves (over a minute on an empty warehouse).
    Its sorts (every fact row of a snapshot's projects, by project and month) spilled to disk at the
    default 4MB of work_mem: 64MB keeps them in memory, 10% of the query's time per 100k projects.
    Incremental, in the build schema with the facts it is computed from (warehouse/transform.py):
    a new submission for month M changes the indicators of its kind from M on (the month, the year
    so far, since the start, the snapshots), and a later month adds points for every area. So the
    months from the earliest new submission's on are recomputed (from the month after the last
    point held, if that is earlier; from January when the points start earlier than they did)
    and replace the rows held for them (delete+insert on the point's key); earlier months keep
    their rows. Nothing new: nothing recomputed. -#}
{{ config(
    materialized='incremental', schema='marts', incremental_strategy='delete+insert',
    unique_key=['area_code', 'indicator_code', 'period_month'], on_schema_change='fail',
    pre_hook=["set local jit = off", "set local work_mem = '64MB'"]) }}
-- depends_on: {{ ref('int_new_submissions') }}
-- Every indicator at every area × month of int_area_months: the month's value where it exists,
-- year-to-date, since the programme start, and the months reported so far this year. Each rule
-- kind is one macro (macros/indicators.sql) used by all indicators of that kind.
{%- set months_from = none %}
{%- set nothing_to_compute = false %}
{%- if is_incremental() and execute %}
{%- set bounds = run_query("select case when m.first < held.first then date_trunc('year', m.first)::date else m.first end,
        (select max(period_month) from " ~ ref('int_area_months') ~ ")
    from (select least(min(n.period_month), (select (max(period_month) + interval '1 month')::date from " ~ this ~ ")) as first
          from " ~ ref('int_new_submissions') ~ " as n) as m,
         (select min(period_month) as first from " ~ this ~ ") as held").rows[0] %}
{%- set first, last = bounds[0], bounds[1] %}
{%- set months_from = "'" ~ (first if first is not none else 'infinity') ~ "'::date" %}
{#- Every point is held and nothing new arrived: no month to recompute, so no query at all (the
    rules' year-to-date and snapshot parts would still read the facts to find no rows). -#}
{%- set nothing_to_compute = first is none or last is none or first > last %}
{%- endif %}
{% set parts = [] %}
{% for i in indicators() if not nothing_to_compute %}
    {% do parts.append(indicator_values(i, months_from)) %}
{% endfor %}
{%- set shared = [] if nothing_to_compute else snapshot_versions_ctes(months_from) %}
{% if shared %}with {{ shared | join(",\n") }}{% endif %}
{% for part in parts %}
select * from ({{ part }}) as i{{ loop.index }}
{{ "union all" if not loop.last }}
{% endfor %}
{% if not parts %}
select null::text as area_code, null::text as indicator_code, null::date as period_month,
    null::boolean as is_reported, null::numeric(20, 4) as value, null::numeric(20, 4) as ytd_value,
    null::numeric(20, 4) as cumulative_value, null::integer as months_reported
where false
{% endif %}
