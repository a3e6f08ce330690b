-- The tourism ledger's rows as loaded (every loaded submission), columns from its contract.
{{ staging_ledger('tourism') }}
