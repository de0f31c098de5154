"""The port through which another capability spends a member's points in ONE transaction with its own
writes (a reward's redemption: the points, the stock, the per-member count, the vouchers).

The points capability implements `SpendingLedger` with its one ledger operation; the caller drafts its
change on a `PointsAccount` and hands back its own reads and writes as opaque `JoinedRead`/`JoinedWrite`
values, which its repository produced and only the storage adapters look inside."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Mapping, Protocol, TypeVar

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.models import Result

R = TypeVar("R", bound=Result)


class ReadAgain(Exception):
    """Something the operation read changed before its write: read again and draft again."""


@dataclass(frozen=True)
class JoinedRead:
    """An item read in the operation's one round trip: `key` in the storage's format, `parse` turns the
    raw item (None: absent) into the caller's domain object."""

    key: Any
    parse: Callable[[Any], Any]


@dataclass(frozen=True)
class JoinedWrite:
    """An item written in the operation's one transaction; `refused` raises the caller's error when its
    condition fails (given the item as it was, or None)."""

    item: Any
    refused: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class BusinessKey:
    """What makes the operation happen once, for good: the claim is stored on the caller's own record
    (`record`, one of its writes) and read back from there, so a retry answers the original result."""

    scope: str
    key: str
    request_hash: str
    record: JoinedRead
    conflict_field: str


@dataclass(frozen=True)
class SpentPoints:
    """Points taken from a member, and where from: expiry months (soonest first) and earning stores, so
    giving them back restores them exactly."""

    points: int
    months: dict[str, int]
    origins: dict[str, int]

    def body(self) -> dict:
        return {"points": self.points, "months": dict(self.months), "origins": dict(self.origins)}


@dataclass(frozen=True)
class MemberStanding:
    member_id: str
    exists: bool
    tier: str
    status: str
    available: int
    reserved: int
    debt: int


class PointsAccount(Protocol):
    """A member's points while one operation drafts its change."""

    standing: MemberStanding
    found: Mapping[str, Any]  # the parsed JoinedReads, by the names the caller gave them

    def spend(self, points: int, *, reference_kind: str, reference_id: str, reason: str,
              store_id: str | None) -> SpentPoints:
        """Raises InsufficientPoints (with `available`) or MemberInDebt; nothing changes then."""

    def give_back(self, spent: SpentPoints, *, reference_kind: str, reference_id: str, reason: str,
                  store_id: str | None) -> int: ...

    def balance_after(self) -> dict: ...

    def entry_ids(self) -> list[str]: ...


@dataclass
class SpendingChange(Generic[R]):
    """The caller's draft: its writes and events beside the points, and its answer. With `writes` None
    the answer is given without writing (the work was done before)."""

    result: R
    writes: list[JoinedWrite] | None = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SpendingOutcome(Generic[R]):
    result: R
    created: bool


class SpendingLedger(Protocol):
    def run(self, member_id: str, answer: type[R], draft: Callable[[PointsAccount, Any], SpendingChange[R]], *,
            reads: Mapping[str, JoinedRead], key: BusinessKey | None = None,
            member: bool = True) -> SpendingOutcome[R]:
        """Read the balance, the member (unless `member` is False: `standing.exists` is then unknown and
        False) and `reads` in one round trip; replay when `key`'s claim exists;
        draft; write the points and the caller's writes in one transaction; retry on a stale read."""

    def standing(self, member_id: str) -> MemberStanding: ...
