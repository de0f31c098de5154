"""KPIs: daily aggregates kept from the bus's events, reports and the monthly digest, and the
reconciliation that proves the books."""
