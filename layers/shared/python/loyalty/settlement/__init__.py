"""Settlement between the stores of a chain: daily counters kept from the ledger, and the report."""
