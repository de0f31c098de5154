"""Events as a bus subscription delivers them: the EventBridge event JSON in an SQS message body.

Consumers of the bus read the domain event's own id and time from the detail (the envelope the
relay publishes, kernel.events), never EventBridge's: a replay from the archive or a second publish
of the same outbox item carries a new EventBridge id but the same domain event id, which is what a
consumer deduplicates by."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loyalty.kernel.errors import DomainError


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


def process_bus_batch(event: dict, context: Any, apply: Callable[[BusEvent], str], *, logger: Any,
                      metrics: Any, name: str) -> dict:
    """Run `apply` on each event of an SQS batch from a bus subscription and answer the failures one by
    one (batchItemFailures), so a bad message never fails its batch; after the queue's maxReceiveCount a
    failing message goes to the dead-letter queue. `apply` returns an outcome word ("applied",
    "duplicate", "ignored"...), counted as the metric `<name>` + the word's title case."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record) -> None:
        try:
            parsed = bus_event(record.body)
            outcome = apply(parsed)
        except Exception as error:
            logger.warning(f"{name} event failed", extra={
                "message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(error).__name__,
                # our own errors name ids and fields; others might echo a body
                "error": str(error) if isinstance(error, (MalformedBusMessage, DomainError)) else None})
            metrics.add_metric(name=f"{name}Failed", unit=MetricUnit.Count, value=1)
            raise
        logger.debug(f"{name} event", extra={"event_id": parsed.event_id, "detail_type": parsed.detail_type,
                                             "outcome": outcome})
        metrics.add_metric(name=f"{name}{outcome.title()}", unit=MetricUnit.Count, value=1)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
