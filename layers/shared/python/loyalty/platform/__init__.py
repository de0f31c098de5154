"""Shared infrastructure for every capability: DynamoDB (transactions, keys, cursors), the outbox and
its relay, EventBridge, SQS, the HTTP app factory with the one error mapping, and settings read from
the one environment contract."""
