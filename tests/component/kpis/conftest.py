"""Helpers for the KPI tests: the bus's events as the KPI queue delivers them."""
from __future__ import annotations

import json

import kpi_events


def sqs_event(events, *, start: int = 0) -> dict:
    """An SQS batch carrying `events` (outbox or typed) as EventBridge delivers them to the queue."""
    records = []
    for index, event in enumerate(events, start):
        body = {"version": "0", "id": f"eb-{index}", "detail-type": event.detail_type, "source": event.source,
                "account": "123456789012", "time": event.occurred_at.isoformat(), "region": "us-east-1",
                "resources": [], "detail": event.envelope()}
        records.append({"messageId": f"m-{index}", "receiptHandle": "r", "body": json.dumps(body, default=str),
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "s",
                                       "ApproximateFirstReceiveTimestamp": "0"},
                        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:loyalty-kpis", "awsRegion": "us-east-1"})
    return {"Records": records}


def deliver(ctx, events) -> dict:
    """Through the consumer, in batches of 10 as the queue's event source mapping sends them."""
    events = list(events)
    failures = []
    for start in range(0, len(events), 10):
        answer = kpi_events.handler(sqs_event(events[start:start + 10], start=start), ctx)
        failures += answer["batchItemFailures"]
    return {"batchItemFailures": failures}
