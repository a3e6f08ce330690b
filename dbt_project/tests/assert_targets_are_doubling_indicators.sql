-- Targets (seeds/targets.csv) name a doubling indicator and a target year after the baseline year.
select t.*
from {{ ref('targets') }} as t
left join {{ ref('dim_indicator') }} as i using (indicator_code)
where i.is_doubling is not true or t.target_year <= t.baseline_year
