"""Transactional outbox: an event is written in the same transaction as the change it reports, either
on a new item the change writes anyway (a ledger entry carries the event of its operation) or, when the
change writes no new item, as an outbox item of its own.

The table's stream carries each new item that carries an event (`evt_type` set) to the `events_relay`
function, which puts the event on the bus; a crash between the commit and the publish can no longer
lose an event. Outbox items expire a day later through the table's TTL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel

from loyalty.kernel.events import DomainEvent

OUTBOX_ENTITY = "outbox"
EVENT_TYPE_ATTRIBUTE = "evt_type"  # the stream consumer's filter: new items carrying an event
KEEP_FOR = timedelta(days=1)


def outbox_key(event_id: str) -> dict[str, str]:
    return {"PK": f"OUTBOX#{event_id}", "SK": "EVENT"}


class RelayedEvent(BaseModel):
    """An event as the outbox item carries it to the relay: the envelope and its detail, untyped (the
    relay forwards what was committed; the typed class that made it is the publisher's business)."""

    event_id: str
    source: str
    detail_type: str
    occurred_at: datetime
    detail: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "occurred_at": self.occurred_at.isoformat(), **self.detail}


def event_fields(event: DomainEvent | RelayedEvent) -> dict[str, Any]:
    """The attributes with which an item carries an event to the relay."""
    return {
        "evt_id": event.event_id,
        "evt_source": event.source,
        EVENT_TYPE_ATTRIBUTE: event.detail_type,
        "evt_at": event.occurred_at.isoformat(),
        "evt_detail": json.dumps(event.detail, default=str, ensure_ascii=False, sort_keys=True),
    }


def outbox_item(event: DomainEvent | RelayedEvent) -> dict[str, Any]:
    return {
        **outbox_key(event.event_id),
        "entity": OUTBOX_ENTITY,
        **event_fields(event),
        "expires_at": int((event.occurred_at + KEEP_FOR).timestamp()),
    }


def outbox_puts(table_name: str, events: list[DomainEvent]) -> list[dict[str, Any]]:
    """TransactWriteItems entries for `events`; each id is new, so the put is conditioned on that."""
    return [{"Put": {"TableName": table_name, "Item": outbox_item(e), "ConditionExpression": "attribute_not_exists(PK)"}}
            for e in events]


def event_from_item(item: dict[str, Any]) -> RelayedEvent:
    """The event an item (plain Python values, as deserialized from the stream) carries."""
    if EVENT_TYPE_ATTRIBUTE not in item:  # an outbox item of the first format, still in the stream
        return RelayedEvent(event_id=item["event_id"], source=item["source"], detail_type=item["detail_type"],
                            occurred_at=datetime.fromisoformat(item["occurred_at"]), detail=json.loads(item["detail"]))
    return RelayedEvent(event_id=item["evt_id"], source=item["evt_source"], detail_type=item[EVENT_TYPE_ATTRIBUTE],
                        occurred_at=datetime.fromisoformat(item["evt_at"]), detail=json.loads(item["evt_detail"]))


def carries_event(record: dict[str, Any]) -> bool:
    """The stream consumer's filter: an INSERT whose new image carries an event (or is an outbox item
    of the first format)."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (
        EVENT_TYPE_ATTRIBUTE in image or image.get("entity") == {"S": OUTBOX_ENTITY})


_deserializer = TypeDeserializer()  # numbers become Decimal, as the table stores them


def event_from_stream_record(record: dict[str, Any]) -> RelayedEvent | None:
    """The event a DynamoDB stream record of a new item carries; None for any other record."""
    if not carries_event(record):
        return None
    image = record["dynamodb"]["NewImage"]
    # Only the event's own attributes: the item it rides on (a purchase record, a ledger entry) is not the
    # relay's business, and its other attributes need not even deserialize here.
    wanted = {"evt_id", "evt_source", EVENT_TYPE_ATTRIBUTE, "evt_at", "evt_detail",
              "event_id", "source", "detail_type", "occurred_at", "detail"}
    return event_from_item({name: _deserializer.deserialize(value) for name, value in image.items() if name in wanted})
