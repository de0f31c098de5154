"""Events of the feedback capability (source loyalty.feedback): ids and labels, never the text."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

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
    """Staff gave a final outcome (resolved, or cannot_resolve); whether it was on time."""

    resolved_on_time: bool | None = None
    client_id: str
    outcome: str = "resolved"
    reopen_count: int = 0


class FeedbackStatusChanged(_Routed):
    """The item's status changed (acknowledged, assigned, in_progress, resolved, reopened): what a
    notification service tells the member, from ids and labels (the reply itself is in the member's view)."""

    status: str
    previous_status: str
    item_version: int = Field(description="The item's version after the change")
    due_at: IsoDateTime
    outcome: str | None = None
    expected_at: IsoDateTime | None = None
    reopen_count: int = 0
    channel: str


class FeedbackRated(_Routed):
    """The member rated the handling of their feedback (1-5)."""

    rating: int
    outcome: str | None = None
    reopen_count: int = 0
    assignee_set: bool


class FeedbackOverdue(FeedbackEvent):
    """Open feedback passed its due time (announced once)."""

    status: str
    due_at: IsoDateTime
    assignee_set: bool


class FeedbackInvited(DomainEvent):
    """A purchase was sampled for feedback: the app (or a message) invites the member to give it."""

    source: ClassVar[str] = "loyalty.feedback"
    invitation_id: str
    member_id: str
    store_id: str
    order_id: str
    channel: str
    expires_at: IsoDateTime


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
                            client_id=client_id, outcome=item.outcome.value if item.outcome else "resolved",
                            reopen_count=item.reopen_count)


def status_changed_event(before: FeedbackItem, after: FeedbackItem, at: datetime) -> FeedbackStatusChanged:
    return FeedbackStatusChanged(
        occurred_at=at, **_routing(after), status=after.status.value, previous_status=before.status.value,
        item_version=after.version, due_at=after.due_at, outcome=after.outcome.value if after.outcome else None,
        expected_at=after.expected_at, reopen_count=after.reopen_count, channel=after.channel.value)


def rated_event(item: FeedbackItem, at: datetime) -> FeedbackRated:
    return FeedbackRated(occurred_at=at, **_routing(item), rating=item.satisfaction,
                         outcome=item.outcome.value if item.outcome else None, reopen_count=item.reopen_count,
                         assignee_set=item.assignee is not None)


def overdue_event(item: FeedbackItem, now: datetime) -> FeedbackOverdue:
    return FeedbackOverdue(occurred_at=item.overdue_at or now, feedback_id=item.feedback_id, store_id=item.store_id,
                           primary_category=item.primary_category.value, department=item.department,
                           urgency=item.urgency.value, status=item.status.value, due_at=item.due_at,
                           assignee_set=item.assignee is not None)
