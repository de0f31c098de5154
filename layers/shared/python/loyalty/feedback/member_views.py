"""What the member's app and the webshop see of the member's own feedback: progress, the expected time,
the outcome and the staff's reply, never internal notes or who handles it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loyalty.feedback.domain import FeedbackCategory, FeedbackChannel, FeedbackItem, FeedbackKind, FeedbackStatus, Outcome
from loyalty.kernel.models import IsoDateTime, Result


class MemberFeedbackView(Result):
    feedback_id: str
    store_id: str
    channel: FeedbackChannel
    kind: FeedbackKind
    text: str | None = Field(default=None, description="What the member wrote")
    received_at: IsoDateTime
    status: FeedbackStatus
    category: FeedbackCategory
    department: str = Field(description="The department handling it")
    expected_by: IsoDateTime | None = Field(
        default=None, description="While open: when the member can expect an answer (or, in progress, the outcome)")
    outcome: Outcome | None = None
    outcome_at: IsoDateTime | None = None
    reply: str | None = Field(default=None, description="The staff's reply")
    outcome_reason: str | None = Field(default=None, description="Why it cannot be resolved")
    rating: int | None = Field(default=None, description="The member's rating of the handling")
    reopen_count: int
    can_reopen_until: IsoDateTime | None = Field(
        default=None, description="Present while the member may still reopen it")
    version: int = Field(description="Send with reopen")

    @classmethod
    def of(cls, item: FeedbackItem, reopen_window_days: int, now: datetime) -> "MemberFeedbackView":
        until = item.reopen_until(reopen_window_days)
        return cls(
            feedback_id=item.feedback_id, store_id=item.store_id, channel=item.channel, kind=item.kind, text=item.text,
            received_at=item.received_at, status=item.status, category=item.primary_category,
            department=item.department, expected_by=item.due_at if item.is_open else None,
            outcome=item.outcome, outcome_at=item.outcome_at, reply=item.reply, outcome_reason=item.outcome_reason,
            rating=item.satisfaction, reopen_count=item.reopen_count,
            can_reopen_until=until if until is not None and until > now else None, version=item.version,
        )


class InvitationAnswer(Result):
    invited: bool = Field(description="Whether the app should invite the member to give feedback on this purchase")
    invitation_id: str | None = Field(default=None, description="Send as feedback_id with the member's feedback")
    expires_at: IsoDateTime | None = None
    sample_pct: int = Field(description="The configured share of purchases invited")


class MemberFeedbackList(Result):
    items: list[MemberFeedbackView]
    next_cursor: str | None = Field(description="Pass back as cursor for the next page; null on the last")

    def body(self) -> dict[str, Any]:
        return {"items": [item.body() for item in self.items], "next_cursor": self.next_cursor}
