-- Every county × ledger kind × month from the programme's start month through the latest month
-- that is due (submissions.md, Due dates): month M is due by day XIEZUO_DUE_DAY (var due_day,
-- default 5) of month M+1, in the city's local time.
--   status       accepted (an accepted version counts, warnings or not), rejected (only rejected
--                files arrived), missing (nothing arrived)
--   received_at, rows, file_sha256   of the version that counts (the latest accepted; else the
--                latest rejected)
--   is_late      the first accepted version arrived after the due date; true when nothing was
--                accepted (every month listed here is already due)
{%- set due_day = env_var('XIEZUO_DUE_DAY', var('due_day') | string) | int %}
{%- set tz = var('local_timezone') %}
with today as (
    select (now() at time zone {{ sql_literal(tz) }})::date as today
),
months as (
    select m::date as period_month, (m + interval '1 month' + interval '{{ due_day - 1 }} day')::date as due_date
    from generate_series({{ sql_literal(var('programme_start_month') ~ '-01') }}::date,
                         (select today from today), interval '1 month') as m
),
due_months as (
    select * from months where due_date <= (select today from today)
),
kinds as (
    {%- for k in xiezuo_kinds() %}
    select {{ sql_literal(k) }}::text as submission_type {{ "union all" if not loop.last }}
    {%- else %}
    select null::text as submission_type where false
    {%- endfor %}
),
slots as (
    select a.area_code, k.submission_type, m.period_month, m.due_date
    from {{ ref('ref_areas') }} as a
    cross join kinds as k
    cross join due_months as m
    where a.area_level = 'county'
),
submissions as (
    select
        *,
        status in ('accepted', 'accepted_with_warnings') as is_accepted,
        row_number() over (
            partition by area_code, submission_type, period_month,
                status in ('accepted', 'accepted_with_warnings')
            order by submission_id desc) as recency,
        min(received_at) filter (where status in ('accepted', 'accepted_with_warnings')) over (
            partition by area_code, submission_type, period_month) as first_accepted_at
    from {{ ref('stg_raw__submissions') }}
    where status in ('accepted', 'accepted_with_warnings', 'rejected')
),
counting as (
    -- the latest accepted version, else the latest rejected one
    select distinct on (area_code, submission_type, period_month) *
    from submissions
    where recency = 1
    order by area_code, submission_type, period_month, is_accepted desc
)
select
    s.area_code,
    s.submission_type,
    s.period_month,
    case when c.is_accepted then 'accepted' when c.submission_id is not null then 'rejected' else 'missing' end
        as status,
    c.received_at,
    s.due_date,
    coalesce((c.first_accepted_at at time zone {{ sql_literal(tz) }})::date > s.due_date, true) as is_late,
    c.rows,
    c.file_sha256,
    c.submission_id
from slots as s
left join counting as c using (area_code, submission_type, period_month)
