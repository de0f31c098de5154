"""The ports between points and tiers. A member's tier standing (the tier held and the rolling-window
figures it is judged on) is a small opaque value kept ON the points balance, so a purchase, return or
activity updates it in the transaction it already writes, and reads the tier from the item it already reads.

The points capability calls a `TierTracker` (the tiers capability implements it) while it drafts an
operation; the tiers capability changes a standing outside any points operation (a review, a manual
change) through a `StandingLedger` (the points capability implements it with its one ledger operation)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Literal, Protocol

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.spending import JoinedWrite


@dataclass(frozen=True)
class QualifyingFact:
    """What one points operation tells the tiers: spend (negative for a return) on a local day of the
    program, a visit, or an activity."""

    kind: Literal["purchase", "return", "activity"]
    reference_id: str  # the order, return or activity id
    day: date  # the program's local day it happened on (a return: the day of the purchase it undoes)
    today: date  # the program's local day now (the window ends today)
    spend: Decimal = Decimal(0)
    visit: bool = False
    activity_type: str | None = None


@dataclass(frozen=True)
class HeldTier:
    tier: str
    multiplier: Decimal  # applied to points earned while it is held


@dataclass(frozen=True)
class StandingUpdate:
    """The standing after one operation; `writes` and `events` are empty unless the tier changed."""

    standing: dict[str, Any]
    held: HeldTier  # the tier held BEFORE the operation (its multiplier applies to it)
    change: dict[str, Any] | None = None  # {"from", "to", "reason"}: what the answer reports
    writes: list[JoinedWrite] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


class TierTracker(Protocol):
    def held(self, standing: dict[str, Any] | None, profile_tier: str | None, now: datetime) -> HeldTier: ...

    def record(self, member_id: str, standing: dict[str, Any] | None, profile_tier: str | None,
               fact: QualifyingFact, now: datetime) -> StandingUpdate:
        """Add the fact to the figures; upgrade at once when a higher tier is now met (never downgrade here)."""


@dataclass(frozen=True)
class StandingChange:
    standing: dict[str, Any]
    writes: list[JoinedWrite] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


class StandingLedger(Protocol):
    def change(self, member_id: str,
               draft: Callable[[dict[str, Any] | None, str | None, datetime], StandingChange | None]) -> bool:
        """Read the member's standing (and profile tier), draft, write it with `writes` and `events` in one
        transaction conditioned on what was read (read again when it moved). False when `draft` returned
        None (nothing to do) or the member does not exist."""

    def standing(self, member_id: str) -> tuple[bool, dict[str, Any] | None, str | None]:
        """(member exists, standing, profile tier) in one read."""
