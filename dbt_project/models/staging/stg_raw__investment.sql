-- The investment ledger's rows as loaded, one row per source row of every loaded submission.
select
    r.submission_id,
    r.source_row,
    {% for c in xiezuo_columns('investment') -%}
    r.{{ c }},
    {% endfor -%}
    s.county_code as area_code,
    s.period_month
from {{ source('raw', 'investment_rows') }} as r
join {{ source('raw', 'submissions') }} as s using (submission_id)
