-- One row per consumer ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('consumer') }}
