-- One row per employment ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('employment') }}
