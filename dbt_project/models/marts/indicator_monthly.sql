-- One row per area × indicator × month in which the area's value exists (indicators.md): a
-- county's ledger of the indicator's kind for the month was accepted (no qualifying rows: 0);
-- the city's when any county's was. ytd_value and cumulative_value (since the programme start)
-- follow the indicator's rule kind.
select
    area_code,
    indicator_code,
    period_month,
    value,
    ytd_value,
    cumulative_value
from {{ ref('int_indicator_values') }}
where is_reported
