-- The indicators, from their one definition (dbt_project.yml vars.indicators).
{% for i in indicators() %}
select
    {{ sql_literal(i.code) }}::text as indicator_code,
    {{ sql_literal(i.name_zh) }}::text as name_zh,
    {{ sql_literal(i.name_en) }}::text as name_en,
    {{ sql_literal(i.unit) }}::text as unit,
    {{ sql_literal(i.rule) }}::text as rule,
    {{ 'true' if i.doubling else 'false' }}::boolean as is_doubling,
    {{ sql_literal(i.kind) }}::text as submission_type,
    {{ loop.index }}::integer as sort_order
{{ "union all" if not loop.last }}
{% endfor %}
