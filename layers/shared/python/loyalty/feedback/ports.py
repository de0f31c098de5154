"""Ports the feedback use cases need; adapters implement them, tests pass fakes in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable, Iterator, Protocol

from loyalty.kernel.events import DomainEvent
from loyalty.feedback.domain import FeedbackHistoryEntry, FeedbackItem, FeedbackQuery, FeedbackStatus
from loyalty.feedback.config import FeedbackConfig, StoredFeedbackConfig
from loyalty.feedback.kpis import StatDelta
from loyalty.kernel.stores import Store


class FeedbackQueue(Protocol):
    def send(self, message: dict) -> None:
        """Put one validated feedback message on the intake queue."""


class FeedbackRewarder(Protocol):
    def reward(self, member_id: str, feedback_id: str, store_id: str, occurred_at: datetime) -> str:
        """Credit the configured points for giving feedback. Idempotent by feedback id (a redelivered
        message may call it again). Returns "rewarded", "already_rewarded" or "not_rewarded:<code>"
        (monthly cap reached, unknown member...: refusals are answers, not errors). Raises only on
        failures worth retrying."""


class WordSegmenter(Protocol):
    """Cuts text into words (Chinese has no spaces); the classifier's keywords are added as words."""

    def add_words(self, words: Iterable[str]) -> None: ...

    def cut(self, text: str) -> list[str]:
        """The words of the case-folded text, without whitespace."""


class MemberTiers(Protocol):
    def member_tier(self, member_id: str) -> str | None:
        """The member's tier (base, silver, gold, platinum...), None for an unknown member."""


class StoreCatalog(Protocol):
    def get_store(self, store_id: str) -> Store | None: ...

    def list_stores(self) -> list[Store]: ...


@dataclass(frozen=True)
class FeedbackPage:
    items: list[FeedbackItem]
    cursor: str | None


class FeedbackRepository(Protocol):
    def create(self, item: FeedbackItem, entry: FeedbackHistoryEntry, stats: list[StatDelta] = ()) -> FeedbackItem | None:
        """Store a new item, its first history entry and its counters atomically, only if the id is new.
        Return None when stored, or the item already stored under that id."""

    def get(self, feedback_id: str) -> FeedbackItem | None: ...

    def history(self, feedback_id: str) -> list[FeedbackHistoryEntry]: ...

    def mark_processed(self, feedback_id: str, *, events_published_at: datetime | None = None,
                       reward_settled_at: datetime | None = None) -> None: ...

    def update(self, before: FeedbackItem, after: FeedbackItem, entry: FeedbackHistoryEntry,
               events: list[DomainEvent] = (), stats: list[StatDelta] = ()) -> None:
        """Write the workflow change, its events (to the outbox) and its counters if the stored version is still
        `before.version` (else ConcurrentUpdate)."""

    def past_due(self, status: FeedbackStatus, now: datetime) -> Iterator[FeedbackItem]: ...

    def flag_overdue(self, item: FeedbackItem, now: datetime, entry: FeedbackHistoryEntry) -> bool:
        """Set the overdue flag once; False when already flagged or no longer open."""

    def mark_overdue_notified(self, feedback_id: str, at: datetime) -> None: ...

    def search(self, query: FeedbackQuery, now: datetime, allowed: Callable[[FeedbackItem], bool]) -> FeedbackPage:
        """One page of items matching the query, read from a store or status partition, never a scan."""

    def received_between(self, store_id: str, start: datetime, end: datetime) -> Iterator[FeedbackItem]:
        """A store's items received in [start, end)."""

    def member_feedback(self, member_id: str, limit: int, cursor: str | None) -> FeedbackPage:
        """One page of a member's feedback, newest first."""

    def recent_complaints(self, member_id: str, since: datetime, until: datetime, exclude_feedback_id: str) -> int:
        """How many other complaints the member gave from `since` to `until`."""

    def stats_between(self, first: date, last: date) -> Iterator[dict]:
        """The handling counters of the days from `first` to `last` (each with `dimension` and `value`)."""

    def invite(self, invitation_id: str, member_id: str, store_id: str, order_id: str, expires_at: datetime,
               event: DomainEvent) -> bool:
        """Record the invitation and its event once; False when this order was already invited."""

    def get_config(self) -> StoredFeedbackConfig | None: ...

    def put_config(self, config: FeedbackConfig, *, expected_version: int, at: datetime,
                   by: str) -> StoredFeedbackConfig:
        """Replace the configuration if its version is still `expected_version` (else ConcurrentUpdate)."""


class ActivityRecorded(Protocol):
    created: bool


class ActivityLedger(Protocol):
    """What the rewarder needs from the points capability: an activity's points, once per activity id."""

    def earn_activity(self, member_id: str, *, activity_id: str, activity_type: str, occurred_at: datetime,
                      store_id: str | None = None) -> ActivityRecorded: ...
