"""The small kernel every capability builds on: typed errors, the typed event base, ids, the caller's
identity, idempotency claims, shared value types and the ports for time, ids and events."""
