"""Member feedback: what a client submits, the stored item, its status transitions and history.

The loop is collect (intake), classify and route (feedback_classify), track (transitions, deadlines,
overdue flag) and analyse (feedback_report). Text may hold personal data: it is stored on the item and
shown to staff, never put in events or logs.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

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
    RESOLVED = "resolved"


OPEN_STATUSES = (FeedbackStatus.NEW, FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.ASSIGNED)


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
    RESOLVED = "resolved"
    OVERDUE = "overdue"


_ALLOWED_FROM: dict[FeedbackAction, tuple[FeedbackStatus, ...]] = {
    FeedbackAction.ACKNOWLEDGED: (FeedbackStatus.NEW,),
    FeedbackAction.ASSIGNED: OPEN_STATUSES,
    FeedbackAction.RESOLVED: OPEN_STATUSES,
}
_STATUS_AFTER = {
    FeedbackAction.ACKNOWLEDGED: FeedbackStatus.ACKNOWLEDGED,
    FeedbackAction.ASSIGNED: FeedbackStatus.ASSIGNED,
    FeedbackAction.RESOLVED: FeedbackStatus.RESOLVED,
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
    note: str | None = None


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
    department: str
    due_at: datetime
    # handling
    status: FeedbackStatus = FeedbackStatus.NEW
    assignee: str | None = None
    acknowledged_at: datetime | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    resolved_on_time: bool | None = None
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
                   by: str | None = None, assignee: str | None = None,
                   note: str | None = None) -> tuple["FeedbackItem", FeedbackHistoryEntry]:
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
        changes: dict[str, Any] = {"status": _STATUS_AFTER[action], "version": self.version + 1}
        if action == FeedbackAction.ACKNOWLEDGED:
            changes["acknowledged_at"] = now
        elif action == FeedbackAction.ASSIGNED:
            changes.update(assignee=assignee, assigned_at=now)
        elif action == FeedbackAction.RESOLVED:
            changes.update(resolved_at=now, resolution_note=note, resolved_on_time=now <= self.due_at)
        after = self.model_copy(update=changes)
        entry = FeedbackHistoryEntry(
            feedback_id=self.feedback_id, at=now, action=action, version=after.version,
            from_status=self.status, to_status=after.status, client_id=client_id, by=by,
            assignee=assignee if action == FeedbackAction.ASSIGNED else None, note=note,
        )
        return after, entry

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
    note: Note = Field(description="What was done; required to close the loop")


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
