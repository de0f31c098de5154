"""Events of the feedback capability (source loyalty.feedback): ids and labels, never the text."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from loyalty.feedback.domain import FeedbackItem, Urgency
from loyalty.kernel.events import DomainEvent
from loyalty.kernel.models import IsoDateTime


class FeedbackEvent(DomainEvent):
    """What every feedback event says about the item it is about."""

    source: ClassVar[str] = "loyalty.feedback"
    feedback_id: str
    store_id: str
    primary_category: str
    department: str
    urgency: str


class _Routed(FeedbackEvent):
    member_id: str | None = None


class FeedbackReceived(_Routed):
    """Feedback was stored, classified and routed to a department with a due time."""

    due_at: IsoDateTime
    order_id: str | None = None
    channel: str
    kind: str
    categories: list[str]
    sentiment: str
    rating: int | None = None
    nps: int | None = None
    client_id: str


class FeedbackEscalated(_Routed):
    """Urgent feedback (safety, health, a very low rating): due within hours."""

    due_at: IsoDateTime
    reasons: list[str]


class FeedbackResolved(_Routed):
    """Staff resolved the feedback; whether it was on time."""

    resolved_on_time: bool | None = None
    client_id: str


class FeedbackOverdue(FeedbackEvent):
    """Open feedback passed its due time (announced once)."""

    status: str
    due_at: IsoDateTime
    assignee_set: bool


def _routing(item: FeedbackItem) -> dict:
    return {"feedback_id": item.feedback_id, "store_id": item.store_id, "member_id": item.member_id,
            "primary_category": item.primary_category.value, "department": item.department,
            "urgency": item.urgency.value}


def received_events(item: FeedbackItem) -> list[DomainEvent]:
    """FeedbackReceived for every item, FeedbackEscalated for urgent ones."""
    events: list[DomainEvent] = [FeedbackReceived(
        occurred_at=item.received_at, **_routing(item), due_at=item.due_at, order_id=item.order_id,
        channel=item.channel.value, kind=item.kind.value, categories=[c.value for c in item.categories],
        sentiment=item.sentiment.value, rating=item.rating, nps=item.nps, client_id=item.client_id,
    )]
    if item.urgency == Urgency.URGENT:
        events.append(FeedbackEscalated(occurred_at=item.received_at, **_routing(item), due_at=item.due_at,
                                        reasons=list(item.urgency_reasons)))
    return events


def resolved_event(item: FeedbackItem, client_id: str) -> FeedbackResolved:
    return FeedbackResolved(occurred_at=item.resolved_at, **_routing(item), resolved_on_time=item.resolved_on_time,
                            client_id=client_id)


def overdue_event(item: FeedbackItem, now: datetime) -> FeedbackOverdue:
    return FeedbackOverdue(occurred_at=item.overdue_at or now, feedback_id=item.feedback_id, store_id=item.store_id,
                           primary_category=item.primary_category.value, department=item.department,
                           urgency=item.urgency.value, status=item.status.value, due_at=item.due_at,
                           assignee_set=item.assignee is not None)
