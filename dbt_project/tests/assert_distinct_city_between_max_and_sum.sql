-- For every distinct indicator the city counts each key once: at least the largest county's
-- count, at most the counties' total (a worker in two counties makes it smaller than the total).
{%- set codes = [] %}
{%- for i in indicators(rule='distinct') %}{% do codes.append("'" ~ i.code ~ "'") %}{% endfor %}
with v as (
    select v.*, a.area_level
    from {{ ref('int_indicator_values') }} as v
    join {{ ref('dim_area') }} as a using (area_code)
    where v.indicator_code in ({{ codes | join(', ') if codes else "''" }})
),
counties as (
    select indicator_code, period_month, max(ytd_value) as max_ytd, sum(ytd_value) as sum_ytd
    from v where area_level = 'county' group by 1, 2
)
select c.indicator_code, c.period_month, c.ytd_value, k.max_ytd, k.sum_ytd
from v as c join counties as k using (indicator_code, period_month)
where c.area_level = 'city' and (c.ytd_value < k.max_ytd or c.ytd_value > k.sum_ytd)
