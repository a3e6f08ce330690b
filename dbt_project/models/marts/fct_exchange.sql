-- One row per exchange ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('exchange') }}
