"""What the tiers use cases read and write, and the ports (Protocols) that do it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterator, Protocol

from pydantic import BaseModel, ConfigDict

from loyalty.kernel.spending import JoinedWrite
from loyalty.tiers.ladder import Ladder, LadderInput


class HistoryEntry(BaseModel):
    model_config = ConfigDict(defer_build=True)

    at: datetime
    from_tier: str
    to_tier: str
    direction: str
    reason: str
    reference_id: str | None = None
    note: str | None = None
    client_id: str | None = None


class LadderRepository(Protocol):
    def current(self) -> Ladder:
        """The stored ladder (cached briefly), or the default one."""

    def replace(self, ladder: LadderInput, *, changed_by: str, at: datetime) -> Ladder:
        """Store as version ladder.version + 1 if the stored version is still ladder.version."""


class TierRecords(Protocol):
    def history_write(self, member_id: str, entry: HistoryEntry) -> JoinedWrite: ...

    def profile_tier_write(self, member_id: str, tier: str) -> JoinedWrite:
        """Keep the profile's `tier` (what GET /v1/members/{id} shows) equal to the standing's."""

    def history_page(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[HistoryEntry], str | None]: ...


class ReviewIndex(Protocol):
    shards: int

    def due_members(self, day: date, shard: int, after: str | None = None) -> Iterator[str]:
        """Member ids whose review work falls on `day`, in `shard`, in member id order after `after`."""

    def reviewed_through(self) -> date | None:
        """The last day every member due on it was reviewed; None before the first complete run."""

    def set_reviewed_through(self, day: date) -> None:
        """Move the watermark forward (never back)."""

