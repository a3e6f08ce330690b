{#- JIT compiling this wide query costs far more than it saves (over a minute on an empty warehouse). -#}
{{ config(materialized='table', pre_hook='set local jit = off') }}
-- Every indicator at every area × month of int_area_months: the month's value where it exists,
-- year-to-date, since the programme start, and the months reported so far this year. Each rule
-- kind is one macro (macros/indicators.sql) used by all indicators of that kind.
{% set parts = [] %}
{% for i in indicators() %}
    {% do parts.append(indicator_values(i)) %}
{% endfor %}
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
