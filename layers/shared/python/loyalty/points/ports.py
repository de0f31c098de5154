"""What the points use cases read and write, as records, and the ports (Protocols) that do it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterator, Literal, Mapping, Protocol

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.kernel.spending import JoinedRead, JoinedWrite, ReadAgain
from loyalty.kernel.stores import Store
from loyalty.points.earning import PurchasedLine
from loyalty.points.entries import LedgerEntry, Reference
from loyalty.points.ledger import PointsBalance
from loyalty.points.program import ProgramRules, ProgramRulesInput


class MemberFacts(BaseModel):
    """The little of a member that earning needs."""

    model_config = ConfigDict(defer_build=True)

    member_id: str
    tier: str = "base"
    referred_by: str | None = None
    status: str = "active"
    enrolled_at: datetime | None = None


class PurchaseRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    member_id: str
    order_id: str
    store_id: str
    channel: str
    occurred_at: datetime
    currency: str
    total: Decimal
    payment_method: str
    points: int
    returned_points: int = 0
    lines: list[PurchasedLine]
    lot_id: str | None = None
    rules_version: int
    recorded_at: datetime
    points_payment_id: str | None = None
    points_paid: int = 0  # captured points that paid part of the order
    points_refunded: int = 0  # ...of which returns gave back so far
    points_taken: dict[str, Any] | None = None  # SpentPoints.body() of what is not yet given back
    version: int = 1


class PendingLot(BaseModel):
    """Points waiting out a return window. One item per purchase; found by the job through its activation date."""

    model_config = ConfigDict(defer_build=True)

    lot_id: str
    member_id: str
    points: int
    activates_at: datetime
    earned_at: datetime
    store_id: str | None = None
    source: Reference


@dataclass(frozen=True)
class StoredClaim:
    request_hash: str
    response: dict[str, Any]


@dataclass
class Snapshot:
    """Everything one operation reads, in one round trip."""

    balance: PointsBalance
    member: MemberFacts | None = None
    stores: dict[str, Store] = field(default_factory=dict)
    purchase: PurchaseRecord | None = None
    lot: PendingLot | None = None
    payment: "PointsPaymentRecord | None" = None
    joined: dict[str, Any] = field(default_factory=dict)  # parsed by each JoinedRead's own parser
    claim: StoredClaim | None = None


@dataclass(frozen=True)
class CounterIncrement:
    """Count one more activity of a type in the member's counter for its local month: the month's
    count and the day's, each refused once it reaches its cap (None: that period has no cap and is
    not counted)."""

    activity_type: str
    day: date  # the local day counted; the counter is its month's
    daily_cap: int | None
    monthly_cap: int | None
    keep_until: date  # a counter is only needed while its month can still be posted to


@dataclass
class WritePlan:
    """One transaction: the balance (conditioned on the version read), its new ledger entries and
    whatever else the operation changes. `claim` makes the whole write happen at most once."""

    balance_before: PointsBalance
    balance_after: PointsBalance
    entries: list[LedgerEntry]
    claim: IdempotencyClaim | None = None
    new_purchase: PurchaseRecord | None = None
    purchase_event: DomainEvent | None = None  # rides on the new purchase record
    purchase_returned: tuple[PurchaseRecord, PurchaseRecord] | None = None  # (as read, after the return)
    new_lot: PendingLot | None = None
    lot_change: tuple[PendingLot, int] | None = None  # (as read, points left; 0 deletes it)
    lot_activated: PendingLot | None = None
    counter: CounterIncrement | None = None
    new_payment: "PointsPaymentRecord | None" = None
    payment_change: "tuple[PointsPaymentRecord, PointsPaymentRecord] | None" = None  # (as read, after)
    joined: list[JoinedWrite] = field(default_factory=list)  # another capability's writes (kernel.spending)
    claim_record: Any = None  # the storage key of the record that carries the claim, when not its own item
    events: list[DomainEvent] = field(default_factory=list)  # written to the outbox in the same transaction


class StaleSnapshot(ReadAgain):
    """Something read for the operation changed before the write: read again and recompute."""


class PointsRepository(Protocol):
    def load(self, member_id: str, *, member: bool = False, store_ids: tuple[str, ...] = (),
             purchase: tuple[str, str] | None = None, lot_id: str | None = None, payment_id: str | None = None,
             joined: Mapping[str, JoinedRead] = {}, claim: tuple[str, str] | None = None,
             claim_record: Any = None) -> Snapshot:
        """Read the balance and the named items in ONE round trip (consistent reads)."""

    def commit(self, plan: WritePlan) -> None:
        """Write the plan in ONE transaction. Raises StaleSnapshot when the balance, purchase or lot
        changed since read, IdempotentReplay / IdempotencyKeyReused when the claim exists,
        ActivityCapReached when a counter is full."""

    def member_exists(self, member_id: str) -> bool: ...

    def get_balance(self, member_id: str) -> PointsBalance | None: ...

    def ledger_page(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Up to `limit` entries newest first, after `cursor` when given; and the cursor to continue
        from when more remain. Raises InvalidInput when `cursor` is not one of this member's ledger."""

    def due_lots(self, day: date, now: datetime) -> Iterator[tuple[str, str]]:
        """(member_id, lot_id) of lots due by `now` whose activation date is `day`, over every shard."""

    def open_payments(self, member_id: str) -> list[str]:
        """The ids of the member's points payments still reserved."""

    def due_holds(self, day: date, now: datetime) -> Iterator[tuple[str, str]]:
        """(member_id, payment_id) of points reservations held until `day`, up to `now`, over every shard."""

    def activation_watermark(self) -> date | None: ...

    def set_activation_watermark(self, day: date) -> None: ...


class ProgramRulesRepository(Protocol):
    def current(self) -> ProgramRules:
        """The stored rules (may be cached briefly), or the defaults when none were stored."""

    def replace(self, rules: ProgramRulesInput, *, changed_by: str, at: datetime) -> ProgramRules:
        """Store `rules` as version rules.version + 1 if the stored version is still rules.version."""


ShouldContinue = Callable[[], bool]


class PointsPaymentRecord(BaseModel):
    """Points paying part of an order: reserved, then captured or voided (or released when left alone).
    One item per payment in the member's partition; the sweep finds open ones by `held_until`."""

    model_config = ConfigDict(defer_build=True)

    payment_id: str
    member_id: str
    store_id: str
    order_id: str
    channel: str
    currency: str
    order_total: Decimal
    points: int
    cash_value: Decimal
    status: Literal["reserved", "captured", "voided", "expired"]
    reserved_at: datetime
    held_until: datetime
    closed_at: datetime | None = None
    taken: dict[str, Any]  # SpentPoints.body(): months and origins the points came from
    refunded_points: int = 0
    close_balance: dict[str, int] | None = None  # once closed: the balance after, which a repeat answers
    version: int = 1


# -- the expiry job ---------------------------------------------------------------------------------------
class ExpiryTask(BaseModel):
    """One unit of the expiry job's work: the balances in one (day, shard) partition of the expiry index,
    from after `after` (a position the index returned) when a worker ran out of time and handed the rest on."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    day: date
    shard: int = Field(ge=0, le=255)
    after: str | None = Field(default=None, min_length=1, max_length=2048)


class ExpiryIndex(Protocol):
    shards: int  # partitions per day

    def due_members(self, day: date, shard: int, after: str | None = None) -> Iterator[tuple[str, str]]:
        """(member_id, position) of the balances the expiry job has work for on `day`, in `shard`, in a
        stable order, after `after`. Raises InvalidInput when `after` is not a position of this partition."""

    def dispatched_through(self) -> date | None:
        """The last day whose partitions were handed out; None before the first run."""

    def set_dispatched_through(self, day: date) -> None:
        """Move the watermark forward (never back)."""


class ExpiryWork(Protocol):
    def send(self, tasks: list[ExpiryTask]) -> None:
        """Queue the tasks for the expiry workers (all of them, or raise)."""
