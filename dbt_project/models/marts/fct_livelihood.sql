-- One row per livelihood ledger row of the latest accepted submissions (indicators.md, marts).
{{ fact_ledger('livelihood') }}
