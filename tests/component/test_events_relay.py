"""The outbox relay: DynamoDB Streams batches of outbox items in, events on the bus out, failures per record."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest

import events_relay
from loyalty import wiring
from loyalty.platform import environment as env
from loyalty.platform.outbox import RelayedEvent, outbox_item
from loyalty.kernel.ids import new_id
from tests.component.stream_records import batch, stream_record
from tests.conftest import TEST_ENV, LambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events/events_relay"
AT = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


class RelayPublisher:
    """Records what the relay puts on the bus; fails for the event ids it is told to."""

    def __init__(self, failing: set[str] = frozenset()):
        self.published: list[DomainEvent] = []
        self.failing = set(failing)

    def publish(self, events) -> None:
        for event in events:
            if event.event_id in self.failing:
                raise RuntimeError(f"bus unavailable for {event.event_id}")
        self.published.extend(events)


@pytest.fixture
def relay(aws):
    """The relay's services over moto with a recording publisher, installed for the handler."""
    publisher = RelayPublisher()
    wiring.use(wiring.Services(table=boto3.resource("dynamodb").Table(TEST_ENV[env.TABLE_NAME]),
                               publisher=publisher))
    yield publisher
    wiring.use(None)


def domain_event(detail_type: str = "MemberEnrolled.v1", source: str = "loyalty.members", **detail) -> RelayedEvent:
    return RelayedEvent(event_id=new_id("evt"), detail_type=detail_type, source=source, occurred_at=AT,
                       detail=detail or {"member_id": "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", "store_id": "SH-JINGAN"})


def test_each_outbox_insert_is_published_once_as_it_was_committed(relay):
    enrolled = domain_event()
    earned = domain_event("PointsEarned.v1", "loyalty.points", member_id="mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E",
                          points=268, pending=False, reference_id="SH-JINGAN-T01-000183")
    response = events_relay.handler(batch(stream_record(outbox_item(enrolled)), stream_record(outbox_item(earned))),
                                    LambdaContext())
    assert response == {"batchItemFailures": []}
    assert [(e.event_id, e.source, e.detail_type, e.occurred_at, e.detail) for e in relay.published] == [
        (enrolled.event_id, "loyalty.members", "MemberEnrolled.v1", AT, enrolled.detail),
        (earned.event_id, "loyalty.points", "PointsEarned.v1", AT, earned.detail),
    ]
    assert relay.published[1].envelope()["event_id"] == earned.event_id
    assert relay.published[1].detail["points"] == 268  # a number again, not the string the item stores


def test_other_items_and_removals_are_skipped_as_successes(relay):
    event = domain_event()
    member = {"PK": "MEMBER#mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", "SK": "PROFILE", "entity": "member", "version": 3}
    records = [
        stream_record(member),
        stream_record(member, "MODIFY"),
        stream_record(outbox_item(event), "REMOVE"),  # the outbox item expiring through the TTL
        stream_record(outbox_item(event), "MODIFY"),
        stream_record({k: v for k, v in outbox_item(domain_event()).items() if not k.startswith("evt_")}
                      | {"entity": "not-outbox"}),  # an item that carries no event
    ]
    response = events_relay.handler(batch(*records), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert relay.published == []


def test_a_failing_record_is_reported_and_the_others_are_published(relay):
    first, failing, last = domain_event(), domain_event(), domain_event()
    relay.failing.add(failing.event_id)
    records = [stream_record(outbox_item(e)) for e in (first, failing, last)]
    response = events_relay.handler(batch(*records), LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert [e.event_id for e in relay.published] == [first.event_id, last.event_id]


def test_a_batch_that_fails_entirely_is_reported_record_by_record(relay):
    events = [domain_event(), domain_event()]
    relay.failing.update(e.event_id for e in events)
    records = [stream_record(outbox_item(e)) for e in events]
    response = events_relay.handler(batch(*records), LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}


def test_logs_name_event_ids_and_types_but_not_the_detail(relay, caplog):
    event = domain_event(member_id="mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", store_id="SH-JINGAN", order_id="ORDER-SECRETIVE-1")
    failing = domain_event(order_id="ORDER-SECRETIVE-2")
    relay.failing.add(failing.event_id)
    with caplog.at_level(logging.INFO):
        events_relay.handler(batch(stream_record(outbox_item(event)), stream_record(outbox_item(failing))),
                             LambdaContext())
    logged = {(r.getMessage(), getattr(r, "event_id", None), getattr(r, "detail_type", None)) for r in caplog.records}
    assert {("outbox event relayed", event.event_id, "MemberEnrolled.v1"),
            ("outbox event not relayed", failing.event_id, "MemberEnrolled.v1")} <= logged
    everything = " ".join(str(vars(r)) for r in caplog.records)
    assert "ORDER-SECRETIVE" not in everything and "SH-JINGAN" not in everything


def test_relayed_events_reach_the_bus_with_their_id_in_the_detail(aws):
    """Through the real EventBridge publisher the services build from the environment."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    tap_url = sqs.create_queue(QueueName="relay-test-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="relay-test", EventBusName=TEST_ENV[env.EVENT_BUS_NAME],
                    EventPattern=json.dumps({"source": [{"prefix": "loyalty"}]}))
    events.put_targets(Rule="relay-test", EventBusName=TEST_ENV[env.EVENT_BUS_NAME], Targets=[{"Id": "tap", "Arn": tap_arn}])
    wiring.use(wiring.Services(table=boto3.resource("dynamodb").Table(TEST_ENV[env.TABLE_NAME])))
    try:
        event = domain_event()
        response = events_relay.handler(batch(stream_record(outbox_item(event))), LambdaContext())
    finally:
        wiring.use(None)
    assert response == {"batchItemFailures": []}
    [message] = sqs.receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10).get("Messages", [])
    delivered = json.loads(message["Body"])
    assert (delivered["source"], delivered["detail-type"]) == ("loyalty.members", "MemberEnrolled.v1")
    assert delivered["detail"] == {"event_id": event.event_id, "occurred_at": AT.isoformat(), **event.detail}


@pytest.mark.parametrize("name, published", [
    ("outbox-insert.json", ["MemberEnrolled.v1"]),
    ("mixed.json", ["MemberEnrolled.v1", "PointsEarned.v1"]),
])
def test_sample_events(relay, name, published):
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    response = events_relay.handler(event, LambdaContext())
    assert response == {"batchItemFailures": []}
    assert [e.detail_type for e in relay.published] == published
    assert all(e.event_id.startswith("evt_") and e.detail["member_id"] for e in relay.published)


def test_every_sample_event_has_an_expectation():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == ["mixed.json", "outbox-insert.json"]
