"""What the insight use cases need; adapters implement it, tests pass fakes in."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterator, Protocol

from loyalty.insight.profile import Profile


class InsightRepository(Protocol):
    def load(self, member_id: str) -> tuple[Profile | None, int]:
        """The member's profile and its version (None, 0 when there is none)."""

    def save(self, profile: Profile, *, version: int, next_check_on: date | None, event_id: str | None,
             churn_entry: dict[str, Any] | None, events: list) -> bool:
        """In ONE transaction: the event's marker (when `event_id`), the profile conditioned on `version`,
        the churn-risk list entry (when raised) and the events' outbox items. False: the event was applied
        before. Raises ConcurrentUpdate when the profile changed since it was read."""

    def forget(self, member_id: str) -> bool:
        """Delete the member's profile and churn-risk entry (erasure)."""

    def due_members(self, day: date, shard: int) -> Iterator[str]: ...

    shards: int

    def churn_page(self, store_id: str, status: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]: ...

    def update_churn(self, store_id: str, member_id: str, status: str, note: str | None, at: str) -> dict[str, Any]:
        """Raises ChurnRiskNotFound."""


class ProgramZone(Protocol):
    def current(self) -> Any: ...
