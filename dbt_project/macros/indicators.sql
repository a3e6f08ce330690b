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

{#- What an indicator reads of its fact, as dbt_project.yml says it: its key, value, latest_by
    and filter columns (each a column name or, for a key, an SQL expression), those it has. -#}
{% macro indicator_reads(i) -%}
    {%- set said = [i.key | default(none), i.value | default(none), i.latest_by | default(none)]
                   + ((i.filter | default({}, true)).keys() | list) -%}
    {{ return(said | reject('none') | list) }}
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

{#- The fact's rows an indicator reads: those its filter keeps, from `since` on (a SQL date; all
    when none), as area_code, period_month and `columns` ({name: SQL expression}). -#}
{% macro indicator_fact_rows(i, columns, since=none) -%}
    select area_code, period_month
        {%- for name, expr in columns.items() %}, {{ expr }} as {{ name }}{% endfor %}
    from {{ ref(i.fact) }}
    where {{ indicator_filter(i) }}
        {%- if since is not none %} and period_month >= {{ since }}{% endif %}
{%- endmacro %}

{#- indicator_fact_rows, each twice: once for its county and once for the city (scope_code = the
    area whose value it feeds). For the distinct rule: the city counts a key that two counties
    report once, so its keys are taken from rows of its own. -#}
{% macro indicator_scoped_rows(i, columns, since=none) -%}
    select f.*, scope.area_code as scope_code
    from ({{ indicator_fact_rows(i, columns, since) }}) as f
    cross join lateral (
        values (f.area_code), ({{ sql_literal(var('city_code')) }}::text)
    ) as scope (area_code)
{%- endmacro %}

{#- An additive rule's measures per county and month, and the city's per month (the city's sum or
    count is its counties' rows added up): one pass over the fact's rows, grouped both ways
    (grouping sets) instead of each row read twice, once per scope (indicator_scoped_rows): a
    400k-row ledger's sum 0.14 s -> 0.10 s (issue 7). measures: {name: aggregate over the
    columns}. -#}
{% macro indicator_monthly_measures(i, columns, measures, since=none) -%}
    select case when grouping(r.area_code) = 1 then {{ sql_literal(var('city_code')) }}::text
                else r.area_code end as area_code,
        r.period_month
        {%- for name, agg in measures.items() %}, {{ agg }} as {{ name }}{% endfor %}
    from ({{ indicator_fact_rows(i, columns, since) }}) as r
    group by grouping sets ((r.period_month, r.area_code), (r.period_month))
{%- endmacro %}

{#- Running sums over an area's points (int_area_months, one row per area and month): the
    year so far ('ytd') or since the programme start ('cumulative'). Every fact month is a point
    (int_area_months spans the first to the last month with accepted data), so adding the points
    up to M adds exactly the months a window up to M sees. -#}
{% macro indicator_running(expr, window) -%}
    sum({{ expr }}) over (
        partition by p.area_code{{ ", date_trunc('year', p.period_month)" if window == 'ytd' }}
        order by p.period_month)
{%- endmacro %}

{#- An incremental build recomputes the months from months_from on (int_indicator_values); the
    values it holds for the month before are where the running windows of a rule that adds up
    (sum, count, and the first appearances of distinct) continue from: the since-start value,
    and the year-to-date one if that month is in the same year. -#}
{% macro indicator_held_base(i, months_from) -%}
    select area_code, date_trunc('year', period_month) as year, ytd_value, cumulative_value
    from {{ this }}
    where indicator_code = {{ sql_literal(i.code) }}
        and period_month = ({{ months_from }} - interval '1 month')::date
{%- endmacro %}

{#- The running windows of the months from months_from on, continuing the held values:
    `expr` is the month's count or sum (null: nothing); ytd and since the start. -#}
{% macro indicator_running_on(expr, window, months_from) -%}
    {%- if window == 'ytd' -%}
    coalesce(case when b.year = date_trunc('year', p.period_month) then b.ytd_value end, 0)
        + coalesce({{ indicator_running(expr, 'ytd') }}, 0)
    {%- else -%}
    coalesce(b.cumulative_value, 0) + coalesce({{ indicator_running(expr, 'cumulative') }}, 0)
    {%- endif -%}
{%- endmacro %}

{#- Additive rules (sum, count, mean): each area's month is aggregated once, in one pass over the
    fact; the month, YTD and since-start values add up the months the window sees (running sums
    over the points): the same figures as aggregating the window's rows. measures: {name: the
    month's aggregate}; value: the value from the window's sums, `@_<name>` standing for them. -#}
{% macro indicator_additive(i, columns, measures, value, months_from=none) -%}
    {%- if months_from is not none and measures | length == 1 and value == 'coalesce(@_' ~ (measures.keys() | first) ~ ', 0)' -%}
    {#- a single sum or count: the months from months_from on, from the held values before -#}
    {%- set name, agg = (measures.items() | first) -%}
    with monthly as ({{ indicator_monthly_measures(i, columns, {'x': agg}, since=months_from) }}),
    base as ({{ indicator_held_base(i, months_from) }})
    select p.area_code, p.period_month,
        coalesce(m.x, 0) as month_value,
        {{ indicator_running_on('m.x', 'ytd', months_from) }} as ytd_value,
        {{ indicator_running_on('m.x', 'cumulative', months_from) }} as cumulative_value
    from {{ ref('int_area_months') }} as p
    left join monthly as m using (area_code, period_month)
    left join base as b on b.area_code = p.area_code
    where p.period_month >= {{ months_from }}
    {%- else %}
    with monthly as ({{ indicator_monthly_measures(i, columns, measures) }}),
    running as (
        select p.area_code, p.period_month
            {%- for name in measures.keys() %},
            m.{{ name }} as month_{{ name }},
            {{ indicator_running('m.' ~ name, 'ytd') }} as ytd_{{ name }},
            {{ indicator_running('m.' ~ name, 'cumulative') }} as cumulative_{{ name }}
            {%- endfor %}
        from {{ ref('int_area_months') }} as p
        left join monthly as m using (area_code, period_month)
    )
    select area_code, period_month,
        {{ value.replace('@', 'month') }} as month_value,
        {{ value.replace('@', 'ytd') }} as ytd_value,
        {{ value.replace('@', 'cumulative') }} as cumulative_value
    from running
    {%- endif %}
{%- endmacro %}

{#- rule "sum": sum of the value over the window's rows; a missing value contributes nothing;
    no qualifying rows gives 0. YTD = sum of the year's months; city = all counties' rows. -#}
{% macro rule_sum(i, months_from=none) -%}
    {{ indicator_additive(i, {'v': i.value}, {'s': 'sum(v)'}, 'coalesce(@_s, 0)', months_from) }}
{%- endmacro %}

{#- rule "count": number of qualifying rows; YTD and since-start = sum of the months. -#}
{% macro rule_count(i, months_from=none) -%}
    {{ indicator_additive(i, {}, {'n': 'count(*)'}, 'coalesce(@_n, 0)', months_from) }}
{%- endmacro %}

{#- rule "mean": mean over the window's rows (month, the year's rows, all counties' rows for the
    city), i.e. their sum over their count; 0 when an accepted ledger has no qualifying rows
    (the value exists, indicators.md). -#}
{% macro rule_mean(i) -%}
    {{ indicator_additive(i, {'v': i.value}, {'s': 'sum(v)', 'n': 'count(v)'},
                          'coalesce(@_s / nullif(@_n, 0), 0)') }}
{%- endmacro %}

{#- rule "distinct": number of distinct keys among the window's rows: YTD = distinct over the
    year's months so far; the city counts a key reported by two counties once. For YTD and since
    the start a key counts from the first month it appears in (in the year / at all). The keys
    are read once; each window counts its first appearances and adds them up to the month. -#}
{% macro rule_distinct(i, months_from=none) -%}
    {#- With months_from (an incremental build): the months from then on. A year's first
        appearances need only that year's keys; since the start, a key counts from its first month
        if it appears in no earlier month, and the held value of the month before counts the
        keys that did. -#}
    {%- set incremental = months_from is not none -%}
    {%- set year_from = "date_trunc('year', " ~ months_from ~ ")::date" if incremental else none -%}
    with keyed as materialized (
        select distinct scope_code as area_code, period_month, k
        from ({{ indicator_scoped_rows(i, {'k': i.key}, since=year_from) }}) as r
        where k is not null
    ),
    month_n as (
        select area_code, period_month, count(*) as n from keyed
        {%- if incremental %} where period_month >= {{ months_from }}{% endif %}
        group by 1, 2
    ),
    ytd_n as (
        select area_code, period_month, count(*) as n from (
            select area_code, k, min(period_month) as period_month
            from keyed group by area_code, k, date_trunc('year', period_month)
        ) as firsts group by 1, 2
    ),
    cumulative_n as (
        select area_code, period_month, count(*) as n from (
            select area_code, k, min(period_month) as period_month from keyed
            {%- if incremental %} where period_month >= {{ months_from }}{% endif %}
            group by area_code, k
        ) as firsts
        {%- if incremental %}
        -- a key counts from here only if no earlier row of the fact has it (the city: in any
        -- county): one probe per key through the fact's key index (indicator_key_indexes) —
        -- OFFSET 0 keeps the planner from hashing every earlier row of the fact instead, which
        -- grew with the history (0.15 s per indicator at 40 months); a probe ends at the first
        -- earlier row it finds. Unqualified names below are the fact's (`earlier`) columns.
        where not exists (
            select 1 from {{ ref(i.fact) }} as earlier
            where ({{ i.key }}) = firsts.k and earlier.period_month < {{ months_from }}
                and (firsts.area_code = {{ sql_literal(var('city_code')) }} or earlier.area_code = firsts.area_code)
                and {{ indicator_filter(i) }}
            offset 0)
        {%- endif %}
        group by 1, 2
    ),
    {%- if incremental %}
    base as ({{ indicator_held_base(i, months_from) }}),
    {%- endif %}
    running as (
        select p.area_code, p.period_month,
            coalesce(m.n, 0) as month_value,
            coalesce({{ indicator_running('y.n', 'ytd') }}, 0) as ytd_value,
            {%- if incremental %}
            {{ indicator_running_on('c.n', 'cumulative', months_from) }} as cumulative_value
            {%- else %}
            coalesce({{ indicator_running('c.n', 'cumulative') }}, 0) as cumulative_value
            {%- endif %}
        from {{ ref('int_area_months') }} as p
        left join month_n as m using (area_code, period_month)
        left join ytd_n as y using (area_code, period_month)
        left join cumulative_n as c using (area_code, period_month)
        {%- if incremental %}
        left join base as b on b.area_code = p.area_code
        -- from January of months_from's year: the year's first appearances add up from there
        where p.period_month >= {{ year_from }}
        {%- endif %}
    )
    select * from running
    {%- if incremental %} where period_month >= {{ months_from }}{% endif %}
{%- endmacro %}

{#- rule "snapshot": the value as of month M over the latest row of each project reported up to M
    since the programme start (reported in M or not); the city over every county's projects (a
    project is its county and key). Optionally the latest row per latest_by (a park's latest
    level) is kept next; then the filter; then agg: sum of value | count_distinct of value.
    The window is always "since the start": YTD = the snapshot at M.
    months_from: a SQL date; only the months from it on are computed (all when none). -#}
{#- The versions of a snapshot fact's projects: each row with the month of the project's next
    report (next_month; null for its latest). Computed once per (fact, key) for all the snapshot
    indicators on it (a CTE of int_indicator_values, snapshot_versions_ctes); with months_from, only
    the versions still the latest at that month or later. -#}
{% macro snapshot_versions_name(i) -%}
    snapshot_versions__{{ i.fact }}__{{ local_md5(i.key)[:8] }}
{%- endmacro %}

{#- The fact's columns the snapshot indicators on (fact, key) read — their key, value, filter and
    latest_by, when each is a column name; else all of them. The window sorts every row of the
    fact: at 40 months, the investment fact's whole rows (~260 bytes) spilled to disk, the
    columns read are a fifth of that. -#}
{% macro snapshot_versions_columns(fact, key) -%}
    {%- set names = ['area_code', 'period_month', 'submission_id', 'source_row'] -%}
    {%- set expressions = [] -%}
    {%- for i in indicators(rule='snapshot') if i.fact == fact and i.key == key -%}
        {%- for name in indicator_reads(i) -%}
            {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', name | string) -%}
                {%- do expressions.append(name) -%}
            {%- elif name not in names -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return('f.*' if expressions else 'f.' ~ (names | join(', f.'))) }}
{%- endmacro %}

{% macro snapshot_versions_ctes(months_from=none) -%}
    {%- set ctes = {} -%}
    {%- for i in indicators(rule='snapshot') -%}
        {%- set name = snapshot_versions_name(i) -%}
        {%- if name not in ctes -%}
            {%- set cte -%}
    {#- Not materialized: only the points below read it (writing 400k versions to a CTE's store
        and reading them back cost 0.12 s, issue 7). The project key before the county: the sort
        then tells rows apart by their first column (many projects, few counties; 0.2 s of the
        sort's 0.37 s for a 400k-project ledger) - the same partitions either way. -#}
    {{ name }} as (
        select * from (
            select {{ snapshot_versions_columns(i.fact, i.key) }}, lead(f.period_month) over (
                partition by {{ i.key }}, f.area_code order by f.period_month) as next_month
            from {{ ref(i.fact) }} as f
        ) as v
        {%- if months_from is not none %}
        where v.next_month is null or v.next_month > {{ months_from }}
        {%- endif %}
    ),
    {#- each version at every month it is the latest: from its month to the month before the
        project's next report, or to the last point. Every such month is a point of its county
        (int_area_months: every area × every month from the first with data to the last), so the
        months are those of the points, joined to each version by range (a handful of months per
        build, in a nested loop; a generate_series per version cost twice as much). Made once for
        all the snapshot indicators on (fact, key): per indicator, this cost as much as everything
        else the indicator does. The city's values come from the same rows (grouping sets,
        below), not from a second copy of each: 200k points per 100k projects and month cost the
        indicators 0.4 s more per 100k rows appended (issue 7). #}
    {{ name }}__points as materialized (
        select v.*, m.period_month as point_month
        from {{ name }} as v
        join (select distinct period_month from {{ ref('int_area_months') }}
              {%- if months_from is not none %} where period_month >= {{ months_from }}{% endif %}) as m
            on m.period_month >= v.period_month and (v.next_month is null or m.period_month < v.next_month)
    ),
    {#- the values of the snapshot indicators on (fact, key) that keep every project's latest row
        (no latest_by), in one pass over the points: each county's and the city's per month -#}
    {{ name }}__values as (
        select case when grouping(v.area_code) = 1 then {{ sql_literal(var('city_code')) }}::text
                    else v.area_code end as area_code,
            v.point_month as period_month
            {%- for s in indicators(rule='snapshot') if s.fact == i.fact and s.key == i.key and s.latest_by is not defined %},
            {{ snapshot_aggregate(s, s.value, indicator_filter(s)) }} as {{ adapter.quote(s.code) }}
            {%- endfor %}
        from {{ name }}__points as v
        group by grouping sets ((v.point_month, v.area_code), (v.point_month))
    )
            {%- endset -%}
            {%- do ctes.update({name: cte}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ctes.values() | list) }}
{%- endmacro %}

{#- A snapshot's aggregate of value over the rows where `where` holds (agg: sum | count_distinct);
    no such row: 0. -#}
{% macro snapshot_aggregate(i, value, where) -%}
    {%- if i.agg == 'sum' -%}coalesce(sum({{ value }}) filter (where {{ where }}), 0)
    {%- elif i.agg == 'count_distinct' -%}count(distinct {{ value }}) filter (where {{ where }})
    {%- else -%}{{ exceptions.raise_compiler_error("indicator " ~ i.code ~ ": snapshot agg must be sum or count_distinct") }}
    {%- endif -%}
{%- endmacro %}

{% macro rule_snapshot(i, months_from=none) -%}
    {%- set points = snapshot_versions_name(i) ~ '__points' -%}
    {%- if i.latest_by is defined %}
    {#- the latest of the rows kept per latest_by (a park's latest level) in each county, and in
        the city over every county's rows; then the filter. The city's latest row of a group is
        the latest of the counties' latest rows of it (the order is a key: no ties), so the city
        sorts those few rows, not every point again (0.2 s per 100k projects, issue 7). A row
        without a latest_by value is in no group (a project in no park is no park's): it is left
        out before the sort, which then sorts the parks' projects only (0.6 s of 1.7 s for the
        indicators of a 400k-project ledger with a third of them in parks, issue 7). -#}
    with county_kept as (
        select v.area_code, v.point_month, v.grp, v.period_month, v.submission_id, v.source_row, v.value, v.qualifies
        from (
            select v.area_code, v.point_month, {{ i.latest_by }} as grp, v.period_month, v.submission_id,
                v.source_row, {{ i.value }} as value, {{ indicator_filter(i) }} as qualifies,
                row_number() over (
                    partition by v.area_code, v.point_month, {{ i.latest_by }}
                    order by v.period_month desc, v.submission_id desc, v.source_row desc) as group_recency
            from {{ points }} as v
            where {{ i.latest_by }} is not null
        ) as v
        where v.group_recency = 1
    ),
    kept as (
        select area_code, point_month as period_month, value, qualifies from county_kept
        union all
        select {{ sql_literal(var('city_code')) }}::text, k.point_month, k.value, k.qualifies
        from (
            select k.*, row_number() over (
                    partition by k.point_month, k.grp
                    order by k.period_month desc, k.submission_id desc, k.source_row desc) as group_recency
            from county_kept as k
        ) as k
        where k.group_recency = 1
    ),
    kept_values as (
        select area_code, period_month, {{ snapshot_aggregate(i, 'value', 'qualifies') }} as value
        from kept group by area_code, period_month
    )
    select p.area_code, p.period_month, coalesce(s.value, 0) as value
    from {{ ref('int_area_months') }} as p
    left join kept_values as s using (area_code, period_month)
    {%- else %}
    select p.area_code, p.period_month, coalesce(s.{{ adapter.quote(i.code) }}, 0) as value
    from {{ ref('int_area_months') }} as p
    left join {{ snapshot_versions_name(i) }}__values as s using (area_code, period_month)
    {%- endif %}
    {%- if months_from is not none %}
    where p.period_month >= {{ months_from }}
    {%- endif %}
{%- endmacro %}

{#- An indicator at every point: month_value, ytd_value, cumulative_value. -#}
{% macro indicator_rule(i, months_from=none) -%}
    {%- if i.rule == 'sum' -%}{{ rule_sum(i, months_from) }}
    {%- elif i.rule == 'count' -%}{{ rule_count(i, months_from) }}
    {%- elif i.rule == 'distinct' -%}{{ rule_distinct(i, months_from) }}
    {%- elif i.rule == 'mean' -%}{{ rule_mean(i) }}
    {%- elif i.rule == 'snapshot' -%}
    {#- a snapshot is as of the month, whatever the window: computed once #}
    select area_code, period_month, value as month_value, value as ytd_value, value as cumulative_value
    from ({{ rule_snapshot(i, months_from) }}) as snapshot
    {%- else -%}{{ exceptions.raise_compiler_error("indicator " ~ i.code ~ ": unknown rule " ~ i.rule) }}
    {%- endif -%}
{%- endmacro %}

{#- One indicator at every (area, month) point: value (the month; null where the area's value
    does not exist), ytd_value, cumulative_value (since the programme start) and months_reported
    (months of the year so far in which the area's value exists). months_from: a SQL date; only
    the points from it on (all when none). The running windows still see every earlier month. -#}
{% macro indicator_values(i, months_from=none) -%}
    with points as ({{ indicator_points(i) }}),
    windows as ({{ indicator_rule(i, months_from) }}),
    valued as (
    select
        p.area_code,
        {{ sql_literal(i.code) }}::text as indicator_code,
        p.period_month,
        p.is_reported,
        case when p.is_reported then w.month_value end::numeric(20, 4) as value,
        w.ytd_value::numeric(20, 4) as ytd_value,
        w.cumulative_value::numeric(20, 4) as cumulative_value,
        count(*) filter (where p.is_reported) over (
            partition by p.area_code, date_trunc('year', p.period_month) order by p.period_month
        )::integer as months_reported
    from points as p
    left join windows as w using (area_code, period_month)  -- every point: months_reported counts the year
    )
    select * from valued
    {%- if months_from is not none %}
    where period_month >= {{ months_from }}
    {%- endif %}
{%- endmacro %}

{#- The index each "distinct" indicator's incremental build probes (rule_distinct): its key
    expression and the month, on the fact it counts, over the rows its filter admits (the probe
    repeats the filter, so the planner proves the index's predicate): computing and indexing the
    key of every row cost 0.5 s per 100k rows appended, of the rows an indicator counts a fraction
    of that. A post-hook of the facts (fact_ledger); created once, later builds find it in place. -#}
{% macro indicator_key_indexes(relation, fact) -%}
    {%- set seen = [] -%}
    {%- for i in indicators(rule='distinct') if i.fact == fact -%}
        {%- set where = indicator_filter(i) -%}
        {%- if (i.key, where) not in seen -%}
            {%- do seen.append((i.key, where)) %}
    create index if not exists {{ relation.identifier }}_key_{{ local_md5(i.key ~ '|' ~ where)[:8] }}
        on {{ relation }} (({{ i.key }}), period_month){% if where != 'true' %} where {{ where }}{% endif %};
        {%- endif -%}
    {%- endfor %}
    select 1
{%- endmacro %}
