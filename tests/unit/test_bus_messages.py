"""Events as a bus subscription delivers them to a queue: parsed by the domain event's own id and time."""
from __future__ import annotations

import json

import pytest

from loyalty.platform.bus import MalformedBusMessage, bus_event

DELIVERED = {
    "version": "0", "id": "0c8e-eventbridge-own-id", "detail-type": "PurchaseRecorded.v1", "source": "loyalty.points",
    "account": "123456789012", "time": "2026-11-18T01:30:05Z", "region": "ap-east-1", "resources": [],
    "detail": {"event_id": "evt_01M8YC7BPFCP5NM86610APMBSG", "occurred_at": "2026-11-18T01:30:00+00:00",
               "member_id": "mbr_01M8YC7BPFCP5NM86610APMBSH", "order_id": "SH-JINGAN-20261118-0042", "total": "686.00"},
}


def test_a_delivered_event_is_known_by_the_domain_events_id_not_eventbridges():
    event = bus_event(json.dumps(DELIVERED))
    assert (event.source, event.detail_type) == ("loyalty.points", "PurchaseRecorded.v1")
    assert event.event_id == "evt_01M8YC7BPFCP5NM86610APMBSG"
    assert event.occurred_at.isoformat() == "2026-11-18T01:30:00+00:00"
    assert event.detail["total"] == "686.00"  # figures stay as published: the consumer's model types them


@pytest.mark.parametrize("body,field", [
    ("not json at all", "body"),
    (json.dumps({**DELIVERED, "detail-type": None}), "detail-type"),
    (json.dumps({k: v for k, v in DELIVERED.items() if k != "detail"}), "detail"),
    (json.dumps({**DELIVERED, "detail": {"occurred_at": "2026-11-18T01:30:00+00:00"}}), "detail.event_id"),
    (json.dumps({**DELIVERED, "detail": {**DELIVERED["detail"], "occurred_at": "yesterday"}}), "detail.occurred_at"),
])
def test_a_message_that_is_not_a_bus_event_is_refused_naming_the_field(body, field):
    with pytest.raises(MalformedBusMessage, match=field.replace(".", r"\.")) as refused:
        bus_event(body)
    assert "SH-JINGAN" not in str(refused.value)


def test_a_batch_answers_its_failures_one_by_one():
    from aws_lambda_powertools import Logger, Metrics

    from loyalty.platform.bus import process_bus_batch

    applied = []

    def apply(event):
        if event.detail["order_id"] == "BOOM":
            raise RuntimeError("the table refused")
        applied.append(event.event_id)
        return "applied"

    def message(message_id: str, body: str) -> dict:
        return {"messageId": message_id, "receiptHandle": "r", "body": body, "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "s", "ApproximateFirstReceiveTimestamp": "0"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn", "awsRegion": "r"}

    boom = {**DELIVERED, "detail": {**DELIVERED["detail"], "event_id": "evt_2", "order_id": "BOOM"}}
    batch = {"Records": [message("m-ok", json.dumps(DELIVERED)), message("m-boom", json.dumps(boom)),
                         message("m-bad", "{}")]}
    answer = process_bus_batch(batch, None, apply, logger=Logger(service="test"),
                               metrics=Metrics(namespace="Test", service="test"), name="Insight")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-boom"}, {"itemIdentifier": "m-bad"}]}
    assert applied == ["evt_01M8YC7BPFCP5NM86610APMBSG"]
