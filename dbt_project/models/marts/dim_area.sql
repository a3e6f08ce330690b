-- The city and its reporting counties (reference data, seeds/ref_areas.csv).
select
    area_code,
    area_name,
    area_level,
    nullif(parent_code, '') as parent_code,
    partner_district,
    partner_is_sample
from {{ ref('ref_areas') }}
