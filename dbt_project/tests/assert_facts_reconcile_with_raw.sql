-- Each fact holds exactly the rows of the latest accepted submission of each (county, kind,
-- month), computed here from raw directly: as many rows as the receipts say, every one of them.
-- dbt infers dependencies before the graph (and xiezuo_kinds()) exists; the six facts:
-- depends_on: {{ ref('fct_investment') }}, {{ source('raw', 'investment_rows') }}
-- depends_on: {{ ref('fct_employment') }}, {{ source('raw', 'employment_rows') }}
-- depends_on: {{ ref('fct_tourism') }}, {{ source('raw', 'tourism_rows') }}
-- depends_on: {{ ref('fct_livelihood') }}, {{ source('raw', 'livelihood_rows') }}
-- depends_on: {{ ref('fct_consumer') }}, {{ source('raw', 'consumer_rows') }}
-- depends_on: {{ ref('fct_exchange') }}, {{ source('raw', 'exchange_rows') }}
-- depends_on: {{ source('raw', 'submissions') }}
{% for k in xiezuo_kinds() %}
{% if not loop.first %}union all{% endif %}
(
    with latest as (
        select distinct on (county_code, period_month) submission_id, rows
        from {{ source('raw', 'submissions') }}
        where submission_type = '{{ k }}' and status in ('accepted', 'accepted_with_warnings')
        order by county_code, period_month, submission_id desc
    ),
    expected as (
        select r.submission_id, r.source_row
        from {{ source('raw', k ~ '_rows') }} as r join latest using (submission_id)
    ),
    actual as (select submission_id, source_row from {{ ref('fct_' ~ k) }}),
    mismatched as (
        (select *, 'missing from the fact' as problem from (select * from expected except select * from actual) m)
        union all
        (select *, 'not a latest accepted row' from (select * from actual except select * from expected) e)
    )
    select '{{ k }}' as kind, submission_id, source_row, problem from mismatched
    union all
    select '{{ k }}', null, null, 'receipts say ' || (select coalesce(sum(rows), 0) from latest)
        || ' rows, the fact has ' || (select count(*) from actual)
    where (select coalesce(sum(rows), 0) from latest) <> (select count(*) from actual)
)
{% endfor %}
{% if not xiezuo_kinds() %}select 1 where false{% endif %}
