-- Every area (the city and its counties) × every month from January of the first year with
-- accepted data through the latest month with any accepted data: the points at which indicators
-- are evaluated (indicators.md, indicator_progress). Empty when nothing was accepted yet.
with bounds as (
    select
        date_trunc('year', min(period_month))::date as first_month,
        max(period_month) as last_month
    from {{ ref('int_latest_submissions') }}
),
months as (
    select generate_series(first_month, last_month, interval '1 month')::date as period_month
    from bounds
    where last_month is not null
)
select a.area_code, a.area_level, m.period_month
from {{ ref('ref_areas') }} as a
cross join months as m
