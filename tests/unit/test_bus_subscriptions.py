"""A queue subscribed to detail types gets those events from the bus, as EventBridge's JSON, and no others:
the rule the local run puts on moto's bus has the stack's pattern (QueueSpec.event_pattern)."""
from __future__ import annotations

import json

import boto3
from moto import mock_aws

from infra.resources import EVENT_BUS_NAME, QueueSpec
from local.provision import create_bus, subscribe_queues
from loyalty.platform.bus import bus_event

INSIGHT_LIKE = QueueSpec(logical_id="TestQueue", name="loyalty-test", visibility_timeout_seconds=30,
                         max_receive_count=3, dlq_name="loyalty-test-dlq", consumer="x",
                         subscribes_to=("PurchaseRecorded.v1", "PointsReturned.v1"))


def test_a_subscribed_queue_receives_its_detail_types_only():
    with mock_aws():
        sqs, events = boto3.client("sqs", region_name="us-east-1"), boto3.client("events", region_name="us-east-1")
        url = sqs.create_queue(QueueName=INSIGHT_LIKE.name)["QueueUrl"]
        create_bus(events)
        subscribe_queues(events, sqs, {"TestQueue": url}, queues=(INSIGHT_LIKE,))
        detail = {"event_id": "evt_1", "occurred_at": "2026-11-18T01:30:00+00:00", "order_id": "O-1"}
        events.put_events(Entries=[
            {"EventBusName": EVENT_BUS_NAME, "Source": "loyalty.points", "DetailType": detail_type,
             "Detail": json.dumps({**detail, "event_id": f"evt_{detail_type}"})}
            for detail_type in ("PurchaseRecorded.v1", "PointsEarned.v1", "PointsReturned.v1")])
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        received = sorted(bus_event(body).detail_type for body in bodies)
        assert received == ["PointsReturned.v1", "PurchaseRecorded.v1"]
        assert INSIGHT_LIKE.event_pattern() == {"source": [{"prefix": "loyalty"}],
                                                "detail-type": ["PurchaseRecorded.v1", "PointsReturned.v1"]}
