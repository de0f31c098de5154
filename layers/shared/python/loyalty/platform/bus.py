"""Events as a bus subscription delivers them: the EventBridge event JSON in an SQS message body.

Consumers of the bus read the domain event's own id and time from the detail (the envelope the
relay publishes, kernel.events), never EventBridge's: a replay from the archive or a second publish
of the same outbox item carries a new EventBridge id but the same domain event id, which is what a
consumer deduplicates by."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class MalformedBusMessage(ValueError):
    """The message is not an event of the platform's bus; names the fields, never echoes the body."""


class BusEvent(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    source: str
    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(str(self.detail["occurred_at"]))


def bus_event(body: str) -> BusEvent:
    try:
        event = BusEvent.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        raise MalformedBusMessage(f"not an event of the bus; fields: {', '.join(fields)}") from None
    missing = [name for name in ("event_id", "occurred_at") if not isinstance(event.detail.get(name), str)]
    if missing:
        raise MalformedBusMessage(f"not an event of the bus; fields: {', '.join(f'detail.{m}' for m in missing)}")
    try:
        event.occurred_at
    except ValueError:
        raise MalformedBusMessage("not an event of the bus; fields: detail.occurred_at") from None
    return event
