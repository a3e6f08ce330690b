{#- Indicator definitions live once, in dbt_project.yml vars.indicators. Each rule kind of
    indicators.md is implemented once below (rule_sum, rule_distinct, rule_count, rule_snapshot,
    rule_mean) and used by every indicator of that kind. -#}
{% macro indicators(rule=none, kind=none, doubling=none) -%}
    {%- set out = [] -%}
    {%- for i in var('indicators') -%}
        {%- if (rule is none or i.rule == rule) and (kind is none or i.kind == kind)
               and (doubling is none or (i.doubling | default(false)) == doubling) -%}
            {%- do out.append(i) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{% macro sql_literal(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}

{#- An indicator's row filter (vars: filter: {column: condition}), as a SQL predicate. Text
    literals are quoted here; a "starts with" names a var (e.g. partner_city), never a city. -#}
{% macro indicator_filter(i) -%}
    {%- set parts = [] -%}
    {%- for column, cond in (i.filter | default({}, true)).items() -%}
        {%- if cond is mapping and 'starts_with_var' in cond -%}
            {%- do parts.append('starts_with(' ~ column ~ ', ' ~ sql_literal(var(cond.starts_with_var)) ~ ')') -%}
        {%- elif cond is sameas true -%}
            {%- do parts.append(column ~ ' is true') -%}
        {%- elif cond is sameas false -%}
            {%- do parts.append(column ~ ' is false') -%}
        {%- elif cond is mapping -%}
            {{ exceptions.raise_compiler_error("indicator " ~ i.code ~ ": unknown filter on " ~ column ~ ": " ~ cond) }}
        {%- else -%}
            {%- do parts.append(column ~ ' = ' ~ sql_literal(cond)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts | join(' and ') if parts else 'true') }}
{%- endmacro %}

{#- The (area, month) points at which indicators are evaluated: every area × month of
    int_area_months, flagged is_reported when the area's value exists (indicators.md "Areas and
    months"): a county's ledger of the indicator's kind for the month was accepted; the city's
    when any county's was. -#}
{% macro indicator_points(i) -%}
    with reported as (
        select area_code, period_month from {{ ref('int_latest_submissions') }}
        where submission_type = {{ sql_literal(i.kind) }}
        union
        select {{ sql_literal(var('city_code')) }}::text, period_month from {{ ref('int_latest_submissions') }}
        where submission_type = {{ sql_literal(i.kind) }}
    )
    select g.area_code, g.period_month, r.area_code is not null as is_reported
    from {{ ref('int_area_months') }} as g
    left join reported as r using (area_code, period_month)
{%- endmacro %}

{#- A fact's rows, each twice: once for its county and once for the city (scope_code = the area
    whose value it feeds). columns: {name: SQL expression}; filtered: apply the indicator's filter. -#}
{% macro indicator_scoped_rows(i, columns, filtered=true) -%}
    select f.*, scope.area_code as scope_code
    from (
        select area_code, period_month, submission_id, source_row
            {%- for name, expr in columns.items() %}, {{ expr }} as {{ name }}{% endfor %}
        from {{ ref(i.fact) }}
        where {{ indicator_filter(i) if filtered else 'true' }}
    ) as f
    cross join lateral (
        values (f.area_code), ({{ sql_literal(var('city_code')) }}::text)
    ) as scope (area_code)
{%- endmacro %}

{#- The months a point at month p sees: 'month' (p only), 'ytd' (January to p), 'cumulative'
    (programme start to p). -#}
{% macro indicator_window(window, m, p) -%}
    {%- if window == 'month' -%}{{ m }} = {{ p }}
    {%- elif window == 'ytd' -%}{{ m }} <= {{ p }} and {{ m }} >= date_trunc('year', {{ p }})::date
    {%- elif window == 'cumulative' -%}{{ m }} <= {{ p }}
    {%- else -%}{{ exceptions.raise_compiler_error("unknown indicator window " ~ window) }}
    {%- endif -%}
{%- endmacro %}

{#- Additive rules (sum, count, mean) aggregate each area's month once, then add the months the
    window sees: the same figures as aggregating the window's rows, without one join per point. -#}
{% macro indicator_additive(i, window, columns, measures, value) -%}
    with monthly as (
        select scope_code as area_code, period_month, {{ measures }}
        from ({{ indicator_scoped_rows(i, columns) }}) as r
        group by scope_code, period_month
    )
    select p.area_code, p.period_month, {{ value }} as value
    from {{ ref('int_area_months') }} as p
    left join monthly as m
        on m.area_code = p.area_code and {{ indicator_window(window, 'm.period_month', 'p.period_month') }}
    group by p.area_code, p.period_month
{%- endmacro %}

{#- rule "sum": sum of the value over the window's rows; a missing value contributes nothing;
    no qualifying rows gives 0. YTD = sum of the year's months; city = all counties' rows. -#}
{% macro rule_sum(i, window) -%}
    {{ indicator_additive(i, window, {'v': i.value}, 'sum(v) as s', 'coalesce(sum(m.s), 0)') }}
{%- endmacro %}

{#- rule "count": number of qualifying rows; YTD and since-start = sum of the months. -#}
{% macro rule_count(i, window) -%}
    {{ indicator_additive(i, window, {}, 'count(*) as n', 'coalesce(sum(m.n), 0)') }}
{%- endmacro %}

{#- rule "mean": mean over the window's rows (month, the year's rows, all counties' rows for the
    city), i.e. their sum over their count; 0 when an accepted ledger has no qualifying rows
    (the value exists, indicators.md). -#}
{% macro rule_mean(i, window) -%}
    {{ indicator_additive(i, window, {'v': i.value}, 'sum(v) as s, count(v) as n',
                          'coalesce(sum(m.s) / nullif(sum(m.n), 0), 0)') }}
{%- endmacro %}

{#- rule "distinct": number of distinct keys among the window's rows: YTD = distinct over the
    year's months so far; the city counts a key reported by two counties once. For YTD and since
    the start a key counts from the first month it appears in (in the year / at all). -#}
{% macro rule_distinct(i, window) -%}
    with keyed as (
        select distinct scope_code as area_code, period_month, k
        from ({{ indicator_scoped_rows(i, {'k': i.key}) }}) as r
        where k is not null
    ),
    {%- if window == 'month' %}
    firsts as (select area_code, period_month, k from keyed),
    {%- else %}
    firsts as (
        select area_code, min(period_month) as period_month, k
        from keyed
        group by area_code, k{{ ", date_trunc('year', period_month)" if window == 'ytd' }}
    ),
    {%- endif %}
    monthly as (select area_code, period_month, count(*) as n from firsts group by 1, 2)
    select p.area_code, p.period_month, coalesce(sum(m.n), 0) as value
    from {{ ref('int_area_months') }} as p
    left join monthly as m
        on m.area_code = p.area_code and {{ indicator_window(window, 'm.period_month', 'p.period_month') }}
    group by p.area_code, p.period_month
{%- endmacro %}

{#- rule "snapshot": the value as of month M over the latest row of each project reported up to M
    since the programme start (reported in M or not); the city over every county's projects (a
    project is its county and key). Optionally the latest row per latest_by (a park's latest
    level) is kept next; then the filter; then agg: sum of value | count_distinct of value.
    The window is always "since the start": YTD = the snapshot at M. -#}
{% macro rule_snapshot(i, window) -%}
    {%- set cols = {'project_key': i.key, 'v': i.value} -%}
    {%- for column in (i.filter | default({}, true)).keys() -%}{%- do cols.update({column: column}) -%}{%- endfor -%}
    {%- if i.latest_by is defined -%}{%- do cols.update({'latest_by': i.latest_by}) -%}{%- endif -%}
    with versions as (
        -- a project's row is its latest from its month until the project's next report
        select r.*, lead(r.period_month) over (
            partition by r.area_code, r.project_key order by r.period_month) as next_month
        from ({{ indicator_scoped_rows(i, cols, filtered=false) }}) as r
        where r.scope_code = r.area_code
    ),
    scoped as (
        select v.*, scope.area_code as point_area
        from versions as v
        cross join lateral (values (v.area_code), ({{ sql_literal(var('city_code')) }}::text)) as scope (area_code)
    ),
    projects as (
        select p.area_code, p.period_month, s.submission_id, s.source_row, s.period_month as row_month
            {%- for name in cols.keys() %}, s.{{ name }}{% endfor %}
        from {{ ref('int_area_months') }} as p
        join scoped as s
          on s.point_area = p.area_code
         and s.period_month <= p.period_month
         and (s.next_month is null or s.next_month > p.period_month)
    ),
    {%- if i.latest_by is defined %}
    kept as (
        select * from (
            select *, row_number() over (
                partition by area_code, period_month, latest_by
                order by row_month desc, submission_id desc, source_row desc) as group_recency
            from projects
        ) as g
        where group_recency = 1
    ),
    {%- else %}
    kept as (select * from projects),
    {%- endif %}
    qualifying as (
        select area_code, period_month, v from kept where {{ indicator_filter(i) }}
    )
    select p.area_code, p.period_month,
        {%- if i.agg == 'sum' %} coalesce(sum(q.v), 0)
        {%- elif i.agg == 'count_distinct' %} count(distinct q.v)
        {%- else %}{{ exceptions.raise_compiler_error("indicator " ~ i.code ~ ": snapshot agg must be sum or count_distinct") }}
        {%- endif %} as value
    from {{ ref('int_area_months') }} as p
    left join qualifying as q using (area_code, period_month)
    group by p.area_code, p.period_month
{%- endmacro %}

{% macro indicator_rule(i, window) -%}
    {%- if i.rule == 'sum' -%}{{ rule_sum(i, window) }}
    {%- elif i.rule == 'count' -%}{{ rule_count(i, window) }}
    {%- elif i.rule == 'distinct' -%}{{ rule_distinct(i, window) }}
    {%- elif i.rule == 'mean' -%}{{ rule_mean(i, window) }}
    {%- elif i.rule == 'snapshot' -%}{{ rule_snapshot(i, window) }}
    {%- else -%}{{ exceptions.raise_compiler_error("indicator " ~ i.code ~ ": unknown rule " ~ i.rule) }}
    {%- endif -%}
{%- endmacro %}

{#- One indicator at every (area, month) point: value (the month; null where the area's value
    does not exist), ytd_value, cumulative_value (since the programme start) and months_reported
    (months of the year so far in which the area's value exists). -#}
{% macro indicator_values(i) -%}
    with points as ({{ indicator_points(i) }}),
    month_ as ({{ indicator_rule(i, 'month') }}),
    {%- if i.rule == 'snapshot' %}
    {#- a snapshot is as of the month, whatever the window: computed once #}
    ytd as (select * from month_),
    cumulative as (select * from month_)
    {%- else %}
    ytd as ({{ indicator_rule(i, 'ytd') }}),
    cumulative as ({{ indicator_rule(i, 'cumulative') }})
    {%- endif %}
    select
        p.area_code,
        {{ sql_literal(i.code) }}::text as indicator_code,
        p.period_month,
        p.is_reported,
        case when p.is_reported then m.value end::numeric(20, 4) as value,
        y.value::numeric(20, 4) as ytd_value,
        c.value::numeric(20, 4) as cumulative_value,
        count(*) filter (where p.is_reported) over (
            partition by p.area_code, date_trunc('year', p.period_month) order by p.period_month
        )::integer as months_reported
    from points as p
    join month_ as m using (area_code, period_month)
    join ytd as y using (area_code, period_month)
    join cumulative as c using (area_code, period_month)
{%- endmacro %}
