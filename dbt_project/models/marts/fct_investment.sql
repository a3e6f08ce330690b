-- One row per investment ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('investment') }}
