-- Every area × doubling indicator × month from January of the first year with data through the
-- latest month with any accepted data (indicators.md, Targets): the year-to-date value against
-- the straight-line target for the year,
--   target(Y) = baseline + (target − baseline) × min(1, (Y − baseline_year) / (target_year − baseline_year)),
-- progress_ratio = ytd / target(Y), expected_ratio = M / 12, on_track = progress ≥ expected.
-- Without a target (or before the year after the baseline year) those columns are null.
with doubling as (
    select indicator_code from {{ ref('dim_indicator') }} where is_doubling
),
targets as (
    select
        area_code,
        indicator_code,
        baseline_year,
        baseline_value,
        target_year,
        coalesce(target_value, 2 * baseline_value) as target_value
    from {{ ref('targets') }}
),
values_ as (
    select v.*, extract(year from v.period_month)::integer as year_, extract(month from v.period_month)::integer as month_
    from {{ ref('int_indicator_values') }} as v
    join doubling using (indicator_code)
),
with_target as (
    select
        v.*,
        t.baseline_value,
        case when t.baseline_year < v.year_ then
            t.baseline_value + (t.target_value - t.baseline_value)
                * least(1, (v.year_ - t.baseline_year)::numeric / nullif(t.target_year - t.baseline_year, 0))
        end as year_target
    from values_ as v
    left join targets as t using (area_code, indicator_code)
)
select
    area_code,
    indicator_code,
    period_month,
    ytd_value,
    case when year_target is not null then baseline_value end::numeric(20, 4) as baseline_value,
    year_target::numeric(20, 4) as target_value,
    case when year_target > 0 then round(ytd_value / year_target, 6) end::numeric(12, 6) as progress_ratio,
    case when year_target > 0 then round(month_ / 12.0, 6) end::numeric(12, 6) as expected_ratio,
    -- compared exactly: ytd / target ≥ M / 12  ⇔  12 × ytd ≥ M × target (target > 0)
    case when year_target > 0 then 12 * ytd_value >= month_ * year_target end as on_track,
    months_reported
from with_target
