-- One row per project row of the latest accepted investment ledgers.
select
    i.area_code,
    i.period_month,
    i.submission_id,
    i.source_row,
    {% for c in xiezuo_columns('investment') -%}
    i.{{ c }}{{ "," if not loop.last }}
    {% endfor %}
from {{ ref('stg_raw__investment') }} as i
join {{ ref('int_latest_submissions') }} as l using (submission_id)
