-- For every sum and count indicator, the counties' values add up to the city's, month, YTD and
-- since the start, at every point (a sum has no "distinct": the city is the counties' total).
{%- set codes = [] %}
{%- for i in indicators(rule='sum') + indicators(rule='count') %}{% do codes.append("'" ~ i.code ~ "'") %}{% endfor %}
with v as (
    select v.*, a.area_level
    from {{ ref('int_indicator_values') }} as v
    join {{ ref('dim_area') }} as a using (area_code)
    where v.indicator_code in ({{ codes | join(', ') if codes else "''" }})
),
counties as (
    select indicator_code, period_month, sum(value) as value, sum(ytd_value) as ytd_value,
        sum(cumulative_value) as cumulative_value, bool_or(is_reported) as is_reported
    from v where area_level = 'county' group by 1, 2
),
city as (select * from v where area_level = 'city')
select c.indicator_code, c.period_month, c.value as city_value, k.value as counties_value,
    c.ytd_value as city_ytd, k.ytd_value as counties_ytd
from city as c
join counties as k using (indicator_code, period_month)
where c.value is distinct from k.value
   or c.ytd_value <> k.ytd_value
   or c.cumulative_value <> k.cumulative_value
   or c.is_reported <> k.is_reported
