-- A table, built first: every model of one build reads the same latest submissions, even when
-- a file is accepted while the build runs (the incremental facts and indicators rely on it).
{{ config(materialized='table', post_hook='analyze {{ this }}') }}  {#- statistics for the joins that read it #}
-- The latest accepted submission of each (county, kind, month): only it counts (submissions.md,
-- "Originals, duplicates, corrections"); replaced versions stay in raw but leave the marts.
with accepted as (
    select
        *,
        row_number() over (
            partition by area_code, submission_type, period_month
            order by submission_id desc
        ) as recency
    from {{ ref('stg_raw__submissions') }}
    where status in ('accepted', 'accepted_with_warnings')
)
select
    submission_id, file_sha256, area_code, submission_type, period_month, status, rows,
    received_at, processed_at
from accepted
where recency = 1
