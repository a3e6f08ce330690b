-- Every registered submission, one row each (raw.submissions), with the clerk-facing status.
select
    submission_id,
    sha256 as file_sha256,
    original_name,
    county_code as area_code,
    submission_type,
    period_month,
    status,
    rows,
    replaces,
    error_count,
    warning_count,
    received_at,
    processed_at
from {{ source('raw', 'submissions') }}
