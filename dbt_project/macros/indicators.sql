{#- Indicator definitions live once, in dbt_project.yml vars.indicators. -#}
{% macro indicators(rule=none, kind=none) -%}
    {%- set out = [] -%}
    {%- for i in var('indicators') -%}
        {%- if (rule is none or i.rule == rule) and (kind is none or i.kind == kind) -%}
            {%- do out.append(i) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- The (county, month) pairs in which a county's value of an indicator exists: its ledger of the
    indicator's kind for that month was accepted (indicators.md "Areas and months"). -#}
{% macro reported_months(kind) -%}
    select area_code, period_month from {{ ref('int_latest_submissions') }}
    where submission_type = '{{ kind }}'
{%- endmacro %}

{#- rule "sum": month = sum over the month's rows; a missing value contributes nothing; an
    accepted ledger with no qualifying rows gives 0; the city sums all counties' rows. -#}
{% macro sum_indicator(i) -%}
    with reported as ({{ reported_months(i.kind) }}),
    rows_ as (
        select area_code, period_month, {{ i.value }} as v
        from {{ ref(i.fact) }}
        where {{ i.get('where', 'true') }}
    ),
    county as (
        select r.area_code, r.period_month, coalesce(sum(x.v), 0) as value
        from reported r
        left join rows_ x using (area_code, period_month)
        group by 1, 2
    ),
    city as (
        select '{{ var("city_code") }}'::text as area_code, period_month, sum(value) as value
        from county group by 2
    )
    select area_code, '{{ i.code }}'::text as indicator_code, period_month, value::numeric(20, 4) as value
    from county
    union all
    select area_code, '{{ i.code }}', period_month, value::numeric(20, 4) from city
{%- endmacro %}
