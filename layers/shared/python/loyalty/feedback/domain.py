"""Member feedback: what a client submits, the stored item, its status transitions and history.

The loop is collect (intake), classify and route (feedback_classify), track (transitions, deadlines,
overdue flag) and analyse (feedback_report). Text may hold personal data: it is stored on the item and
shown to staff, never put in events or logs.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator, model_validator,
)

from loyalty.feedback.errors import InvalidTransition
from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kernel.idempotency import payload_hash
from loyalty.kernel.models import StoreId, StrictModel

EVENT_SOURCE = "loyalty.feedback"
MAX_TEXT_CHARS = 2000

# Client-chosen and chain-wide unique (a UUID, or store + till + sequence); at least 8 characters so
# two tills do not both pick "1".
FeedbackId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-.:]*$",
                                  description="Client-chosen id, unique chain-wide; resending it is idempotent")]
MemberRef = Annotated[str, Field(pattern=r"^mbr_[0-9A-Z]{26}$")]
StaffRef = Annotated[str, Field(min_length=1, max_length=64, description="Staff member id or name")]
Note = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class FeedbackKind(str, Enum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"
    SURVEY = "survey"


class FeedbackChannel(str, Enum):
    POS = "pos"
    WEBSHOP = "webshop"
    APP = "app"
    SURVEY = "survey"
    HOTLINE = "hotline"
    EMAIL = "email"
    WECHAT = "wechat"
    WEIBO = "weibo"
    DOUYIN = "douyin"
    SUGGESTION_BOX = "suggestion_box"  # the in-store box, typed in by staff
    DELIVERY_PLATFORM = "delivery_platform"  # reviews on Meituan, Ele.me, JD Daojia...


class FeedbackCategory(str, Enum):
    """Declaration order breaks ties between equally scored categories."""

    PRODUCT_QUALITY = "product_quality"
    SERVICE_ATTITUDE = "service_attitude"
    PRICING_PROMOTIONS = "pricing_promotions"
    DELIVERY_LOGISTICS = "delivery_logistics"
    STORE_ENVIRONMENT = "store_environment"
    MEMBERSHIP_POINTS = "membership_points"
    OTHER = "other"


class Sentiment(str, Enum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Urgency(str, Enum):
    URGENT = "urgent"  # health, safety, injury, legal threat: escalated at once
    HIGH = "high"  # a low-rated or repeated complaint, a top-tier member
    NORMAL = "normal"


class FeedbackStatus(str, Enum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"  # an outcome that needs time: the member has an expected date
    REOPENED = "reopened"  # the member was not satisfied: back to the department, due sooner
    RESOLVED = "resolved"  # an outcome is given (resolved, or cannot be resolved and why)


OPEN_STATUSES = (FeedbackStatus.NEW, FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.ASSIGNED,
                 FeedbackStatus.IN_PROGRESS, FeedbackStatus.REOPENED)


class Outcome(str, Enum):
    RESOLVED = "resolved"
    IN_PROGRESS = "in_progress"
    CANNOT_RESOLVE = "cannot_resolve"


class FeedbackSubmission(StrictModel):
    """POST /v1/feedback: a complaint at the till, a suggestion in the app, a rating after an order."""

    feedback_id: FeedbackId
    member_id: MemberRef | None = Field(default=None, description="The member giving feedback, if known")
    store_id: StoreId = Field(description="Store the feedback is about (the webshop and app have store ids too)")
    order_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:#/]+$")
    channel: FeedbackChannel
    kind: FeedbackKind
    rating: int | None = Field(default=None, ge=1, le=5, strict=True, description="Star rating, 1 to 5")
    nps: int | None = Field(default=None, ge=0, le=10, strict=True,
                            description="Likelihood to recommend, 0 to 10 (Net Promoter Score question)")
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS,
                             description="The member's words, Chinese or English")

    @model_validator(mode="after")
    def _says_something(self):
        if self.text is None and self.rating is None and self.nps is None:
            raise ValueError("give at least one of text, rating or nps")
        return self

    def fingerprint(self, client_id: str) -> str:
        """Hash of what the client sent: a resend with the same id must carry the same content."""
        fields = set(FeedbackSubmission.model_fields)
        return payload_hash({**self.model_dump(mode="json", include=fields), "client_id": client_id})


class FeedbackMessage(FeedbackSubmission):
    """The queue message: the validated submission plus who sent it and when it arrived."""

    # Unknown fields are ignored so a newer intake does not break an older processor mid-deploy.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    client_id: str = Field(min_length=1, max_length=128)
    received_at: AwareDatetime


class FeedbackAction(str, Enum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"  # an outcome given: resolved, in_progress or cannot_resolve
    RATED = "rated"  # the member rated the handling
    REOPENED = "reopened"  # the member reopened it
    OVERDUE = "overdue"


_ALLOWED_FROM: dict[FeedbackAction, tuple[FeedbackStatus, ...]] = {
    FeedbackAction.ACKNOWLEDGED: (FeedbackStatus.NEW, FeedbackStatus.REOPENED),
    FeedbackAction.ASSIGNED: OPEN_STATUSES,
    FeedbackAction.RESOLVED: OPEN_STATUSES,
    FeedbackAction.RATED: (FeedbackStatus.RESOLVED, FeedbackStatus.IN_PROGRESS),
    FeedbackAction.REOPENED: (FeedbackStatus.RESOLVED,),
}
_STATUS_AFTER = {
    FeedbackAction.ACKNOWLEDGED: FeedbackStatus.ACKNOWLEDGED,
    FeedbackAction.ASSIGNED: FeedbackStatus.ASSIGNED,
    FeedbackAction.REOPENED: FeedbackStatus.REOPENED,
}


class FeedbackHistoryEntry(BaseModel):
    """One change to an item, kept as its own record (the item never grows with its history)."""

    model_config = ConfigDict(defer_build=True)

    feedback_id: str
    at: datetime
    action: FeedbackAction
    version: int = Field(description="Item version after the change")
    from_status: FeedbackStatus | None = None
    to_status: FeedbackStatus
    client_id: str | None = None
    by: str | None = None
    assignee: str | None = None
    note: str | None = Field(default=None, description="Internal: staff only")
    outcome: Outcome | None = None
    reply: str | None = Field(default=None, description="What the member was told")
    reason: str | None = None
    expected_at: datetime | None = None
    rating: int | None = None
    due_at: datetime | None = Field(default=None, description="The new due time, when the change set one")


class FeedbackRecord(BaseModel):
    """A feedback item as staff see it."""

    model_config = ConfigDict(defer_build=True)

    feedback_id: str
    member_id: str | None = None
    store_id: str
    order_id: str | None = None
    channel: FeedbackChannel
    kind: FeedbackKind
    rating: int | None = None
    nps: int | None = None
    text: str | None = None
    client_id: str
    received_at: datetime
    processed_at: datetime
    # classification and routing
    categories: list[FeedbackCategory]
    primary_category: FeedbackCategory
    sentiment: Sentiment
    urgency: Urgency
    urgency_reasons: list[str] = Field(default_factory=list)
    matched_keywords: list[str] = Field(default_factory=list, description="The keywords the classifier found "
                                                                           "(synonyms as their keyword): why it went where it did")
    department: str
    due_at: datetime
    # handling
    status: FeedbackStatus = FeedbackStatus.NEW
    assignee: str | None = None
    acknowledged_at: datetime | None = None
    assigned_at: datetime | None = None
    # the latest outcome
    outcome: Outcome | None = None
    outcome_at: datetime | None = None
    reply: str | None = Field(default=None, description="The staff's reply to the member")
    outcome_reason: str | None = Field(default=None, description="Why it cannot be resolved (told to the member)")
    expected_at: datetime | None = Field(default=None, description="When an in_progress outcome is expected")
    resolved_at: datetime | None = None
    resolution_note: str | None = Field(default=None, description="Internal note with the latest outcome")
    resolved_on_time: bool | None = None
    first_resolved_at: datetime | None = None
    # the member's side
    satisfaction: int | None = Field(default=None, description="The member's rating of the handling, 1-5")
    rated_at: datetime | None = None
    reopen_count: int = 0
    reopened_at: datetime | None = None
    reopened_from_version: int | None = None
    overdue: bool = False
    overdue_at: datetime | None = None
    version: int = 1


class FeedbackItem(FeedbackRecord):
    """The stored item: the record plus bookkeeping for at-least-once side effects."""

    request_hash: str
    events_published_at: datetime | None = None
    reward_settled_at: datetime | None = None
    overdue_notified_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != FeedbackStatus.RESOLVED

    def is_overdue(self, now: datetime) -> bool:
        """Flagged by the scheduled check, or open and past due and not flagged yet."""
        return self.overdue or (self.is_open and self.due_at < now)

    @property
    def processing_complete(self) -> bool:
        return self.events_published_at is not None and self.reward_settled_at is not None

    def transition(self, action: FeedbackAction, *, now: datetime, client_id: str, expected_version: int | None,
                   by: str | None = None, assignee: str | None = None, note: str | None = None,
                   outcome: "Outcome | None" = None, reply: str | None = None, reason: str | None = None,
                   expected_at: datetime | None = None, rating: int | None = None,
                   reopen_due_hours: int | None = None) -> tuple["FeedbackItem", FeedbackHistoryEntry]:
        """Return the changed item and its history entry; refuse what the workflow does not allow."""
        if expected_version is not None and expected_version != self.version:
            raise ConcurrentUpdate(
                f"feedback {self.feedback_id} is at version {self.version}, not {expected_version}; reload it",
                field="version", details={"current_version": self.version},
            )
        allowed = _ALLOWED_FROM[action]
        if self.status not in allowed:
            raise InvalidTransition(
                f"cannot mark feedback {action.value} while it is {self.status.value}",
                field="status",
                details={"status": self.status.value, "allowed_from": [s.value for s in allowed]},
            )
        if action == FeedbackAction.ASSIGNED and assignee == self.assignee:
            raise InvalidTransition(f"feedback is already assigned to {assignee}", field="assignee")
        changes: dict[str, Any] = {"version": self.version + 1}
        if action in _STATUS_AFTER:
            changes["status"] = _STATUS_AFTER[action]
        new_due = None
        if action == FeedbackAction.ACKNOWLEDGED:
            changes["acknowledged_at"] = now
        elif action == FeedbackAction.ASSIGNED:
            changes.update(assignee=assignee, assigned_at=now)
        elif action == FeedbackAction.RESOLVED:
            outcome = outcome or Outcome.RESOLVED
            changes.update(outcome=outcome, outcome_at=now, reply=reply, resolution_note=note,
                           outcome_reason=reason if outcome == Outcome.CANNOT_RESOLVE else None,
                           expected_at=expected_at if outcome == Outcome.IN_PROGRESS else None,
                           satisfaction=None, rated_at=None)
            if outcome == Outcome.IN_PROGRESS:
                # Still open, now against the date the member was given.
                changes["status"] = FeedbackStatus.IN_PROGRESS
                if self.status != FeedbackStatus.IN_PROGRESS:
                    changes["resolved_on_time"] = now <= self.due_at  # answered in time
                new_due = expected_at
            else:
                changes.update(status=FeedbackStatus.RESOLVED, resolved_at=now)
                if self.status != FeedbackStatus.IN_PROGRESS:
                    changes["resolved_on_time"] = now <= self.due_at
                if self.first_resolved_at is None:
                    changes["first_resolved_at"] = now
        elif action == FeedbackAction.RATED:
            changes.update(satisfaction=rating, rated_at=now)
        elif action == FeedbackAction.REOPENED:
            new_due = now + timedelta(hours=reopen_due_hours)
            changes.update(reopen_count=self.reopen_count + 1, reopened_at=now, reopened_from_version=self.version,
                           resolved_at=None, resolved_on_time=None, overdue=False, overdue_at=None,
                           overdue_notified_at=None)
        if new_due is not None:
            changes["due_at"] = new_due
        after = self.model_copy(update=changes)
        entry = FeedbackHistoryEntry(
            feedback_id=self.feedback_id, at=now, action=action, version=after.version,
            from_status=self.status, to_status=after.status, client_id=client_id, by=by,
            assignee=assignee if action == FeedbackAction.ASSIGNED else None, note=note,
            outcome=outcome, reply=reply, reason=changes.get("outcome_reason"), expected_at=changes.get("expected_at"),
            rating=rating, due_at=new_due,
        )
        return after, entry

    def reopen_until(self, window_days: int) -> datetime | None:
        """Until when the member may reopen it; None while there is nothing to reopen."""
        if self.status != FeedbackStatus.RESOLVED or self.resolved_at is None or window_days <= 0:
            return None
        return self.resolved_at + timedelta(days=window_days)

    def received_entry(self) -> FeedbackHistoryEntry:
        return FeedbackHistoryEntry(
            feedback_id=self.feedback_id, at=self.received_at, action=FeedbackAction.RECEIVED,
            version=self.version, to_status=FeedbackStatus.NEW, client_id=self.client_id,
        )

    def overdue_entry(self, now: datetime) -> FeedbackHistoryEntry:
        return FeedbackHistoryEntry(
            feedback_id=self.feedback_id, at=now, action=FeedbackAction.OVERDUE, version=self.version,
            from_status=self.status, to_status=self.status,
        )


# -- staff requests -------------------------------------------------------------------------------
class _StaffRequest(StrictModel):
    version: StrictInt | None = Field(default=None, ge=1, description="The version you read; 409 if it changed since")
    by: StaffRef | None = Field(default=None, description="Staff member acting through the back-office tool")


class AcknowledgeRequest(_StaffRequest):
    note: Note | None = None


class AssignRequest(_StaffRequest):
    assignee: StaffRef
    note: Note | None = None


class ResolveRequest(_StaffRequest):
    """An outcome: resolved at once, in progress with an expected date, or cannot be resolved and why.
    `reply` is what the member sees; `note` stays internal."""

    outcome: Outcome = Outcome.RESOLVED
    reply: Note = Field(description="The reply to the member (shown in the member's view)")
    note: Note | None = Field(default=None, description="Internal note: never shown to the member")
    expected_at: AwareDatetime | None = Field(default=None, validate_default=True,
                                              description="Required with in_progress: when the member can expect it done")
    reason: Note | None = Field(default=None, validate_default=True,
                                description="Required with cannot_resolve: why, told to the member")

    @field_validator("expected_at")
    @classmethod
    def _in_progress_has_a_date(cls, value, info: ValidationInfo):
        if info.data.get("outcome") == Outcome.IN_PROGRESS and value is None:
            raise ValueError("an in_progress outcome needs expected_at")
        return value

    @field_validator("reason")
    @classmethod
    def _cannot_resolve_says_why(cls, value, info: ValidationInfo):
        if info.data.get("outcome") == Outcome.CANNOT_RESOLVE and value is None:
            raise ValueError("a cannot_resolve outcome needs a reason")
        return value


# -- the member's side ----------------------------------------------------------------------------
class InvitationRequest(StrictModel):
    """After a purchase: should the app invite the member to give feedback on it?"""

    store_id: StoreId
    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:#/]+$")
    channel: FeedbackChannel = Field(description="Where the purchase was made (pos, webshop, app, delivery_platform)")


def invitation_sampled(store_id: str, order_id: str, sample_pct: int) -> bool:
    """The same order always gets the same answer: the sample is a hash of the order, not a dice roll."""
    import hashlib

    digest = hashlib.sha256(f"{store_id}#{order_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < sample_pct


class RateRequest(StrictModel):
    rating: int = Field(ge=1, le=5, strict=True, description="How satisfied the member is with the handling, 1-5")


class ReopenRequest(StrictModel):
    version: StrictInt | None = Field(default=None, ge=1, description="The version the member saw; resending the "
                                                                       "same reopen answers as the first time")
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS,
                             description="What is still wrong (shown to staff)")


class FeedbackQuery(BaseModel):
    """GET /v1/feedback filters. A store partition or a status partition is read, never the table."""

    model_config = ConfigDict(defer_build=True)

    status: FeedbackStatus | None = None
    store_id: str | None = None
    category: FeedbackCategory | None = None
    urgency: Urgency | None = None
    overdue: bool | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = None

    def matches(self, item: FeedbackItem, now: datetime) -> bool:
        if self.status is not None and item.status != self.status:
            return False
        if self.store_id is not None and item.store_id != self.store_id:
            return False
        if self.category is not None and self.category not in item.categories:
            return False
        if self.urgency is not None and item.urgency != self.urgency:
            return False
        if self.overdue is not None and item.is_overdue(now) != self.overdue:
            return False
        return True

    def fingerprint(self) -> str:
        """Binds a cursor to the filters it was issued for."""
        return payload_hash(self.model_dump(mode="json", exclude={"cursor", "limit"}))[:16]
