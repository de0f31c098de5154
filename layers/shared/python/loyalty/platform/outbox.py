"""Transactional outbox: events are items written in the same transaction as the change they report.

The table's stream carries each new outbox item to the `events_relay` function, which puts it on
the bus; a crash between the commit and the publish can no longer lose an event. Outbox items expire
a day later through the table's TTL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel

from loyalty.kernel.events import DomainEvent

OUTBOX_ENTITY = "outbox"
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


def outbox_item(event: DomainEvent | RelayedEvent) -> dict[str, Any]:
    return {
        **outbox_key(event.event_id),
        "entity": OUTBOX_ENTITY,
        "event_id": event.event_id,
        "source": event.source,
        "detail_type": event.detail_type,
        "occurred_at": event.occurred_at.isoformat(),
        "detail": json.dumps(event.detail, default=str, ensure_ascii=False, sort_keys=True),
        "expires_at": int((event.occurred_at + KEEP_FOR).timestamp()),
    }


def outbox_puts(table_name: str, events: list[DomainEvent]) -> list[dict[str, Any]]:
    """TransactWriteItems entries for `events`; each id is new, so the put is conditioned on that."""
    return [{"Put": {"TableName": table_name, "Item": outbox_item(e), "ConditionExpression": "attribute_not_exists(PK)"}}
            for e in events]


def event_from_item(item: dict[str, Any]) -> RelayedEvent:
    """The event an outbox item (plain Python values, as deserialized from the stream) carries."""
    return RelayedEvent(
        event_id=item["event_id"],
        source=item["source"],
        detail_type=item["detail_type"],
        occurred_at=datetime.fromisoformat(item["occurred_at"]),
        detail=json.loads(item["detail"]),
    )


_deserializer = TypeDeserializer()  # numbers become Decimal, as the table stores them


def event_from_stream_record(record: dict[str, Any]) -> RelayedEvent | None:
    """The event a DynamoDB stream record of a new outbox item carries; None for any other record."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if image.get("entity") != {"S": OUTBOX_ENTITY}:
        return None
    return event_from_item({name: _deserializer.deserialize(value) for name, value in image.items()})
