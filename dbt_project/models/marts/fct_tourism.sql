-- One row per tourism ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('tourism') }}
