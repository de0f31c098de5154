"""What one ledger entry adds to the settlement between stores, and how a period's counters add up.

Points are a store's promise. The store where a member earned them issued them; when they are spent at
another store, the issuing store owes the spending store their value. The ledger writes on every spending
entry, on expiry and on the reversals of spending the earning stores it took points from or gave them
back to (`origins`), so each entry can be settled on its own, in the order the stream delivers it:

- issued: points credited by earning (earn, activity, welcome, referral, and back-office adjustments that
  add points), at the entry's store; pending points count when they are credited, since that is when
  the store promised them (activation later only moves them to available and counts nothing);
- returned: points a return takes back, at the store of the purchase returned (named by the return's
  `PointsReturned.v1` event, which rides on the entry; else the entry's store, where the goods came
  back), including the part the balance could not cover and that became debt; the debt repayments of
  later earnings are not counted again, so issued - returned is what the stores' sales kept;
- redeemed: redemptions minus cancelled redemptions, at the store where the points were spent;
- captured: points payments captured minus points refunded for returned goods, at the spending store
  (reservations and releases move points between available and reserved and count nothing);
- expired: points that expired, at the stores that issued them;
- positions: for points of store A spent at store B, A owes B their value; a cancellation or refund
  gives it back. Spending at the store that issued the points owes nothing to anyone.

Points earned outside any store (bonuses and adjustments without one) belong to the chain itself, `*`,
which settles like a store. Back-office adjustments that take points away are not settled: they correct
the member's balance, not a store's promise."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.errors import InvalidInput

CHAIN = "*"  # points earned outside any store, as the ledger's origins call them
MAX_REPORT_DAYS = 92  # a quarter
RETURN_EVENT = "PointsReturned.v1"  # the event a return entry carries; its detail names the purchase's store

# Every ledger entry type, by what it does to the settlement (tests check this is every type the ledger has).
EARNING = frozenset({"earn", "activity", "welcome", "referral", "birthday"})
ADJUSTMENT = "adjustment"  # counts as issued when it adds points
RETURN = "return"
EXPIRY = "expiry"
SPENDING = {"redemption": "redeemed", "redemption_cancel": "redeemed",
            "capture": "captured", "payment_refund": "captured"}  # type -> the figure it moves
UNCOUNTED = frozenset({"activation", "debt_repayment", "reservation", "release"})
ENTRY_TYPES = EARNING | {ADJUSTMENT, RETURN, EXPIRY} | set(SPENDING) | UNCOUNTED
FIGURES = ("issued", "returned", "redeemed", "expired", "captured")


class UnknownEntryType(ValueError):
    """A ledger entry of a type settlement has no rule for: counting it as nothing could hide spending,
    so it fails (and reaches the consumer's dead-letter queue) until a rule is added."""


class LedgerFact(BaseModel):
    """What settlement reads of one ledger entry (the points capability writes it; the stream carries it)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    item_key: tuple[str, str] = Field(description="The entry item's table key: names the entry uniquely")
    member_id: str
    type: str
    points: int
    debt_change: int = 0
    store_id: str | None = None
    origins: dict[str, int] | None = None
    recorded_at: datetime
    purchase_store_id: str | None = Field(default=None, description="A return's purchase store, from its event")


@dataclass
class StoreCounts:
    """One store's figures (a day's and shard's counter item, or a sum of them)."""

    issued: int = 0
    returned: int = 0
    redeemed: int = 0
    expired: int = 0
    captured: int = 0
    spent_from: dict[str, int] = field(default_factory=dict)  # issuing store -> its points spent here

    def add(self, other: "StoreCounts") -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for store, points in other.spent_from.items():
            self.spent_from[store] = self.spent_from.get(store, 0) + points

    def figures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIGURES}

    def is_zero(self) -> bool:
        return not any(self.figures().values()) and not any(self.spent_from.values())


def contribution(fact: LedgerFact) -> dict[str, StoreCounts]:
    """What `fact` adds to each store's counters of the day it was recorded ({} when nothing)."""
    if fact.type not in ENTRY_TYPES:
        raise UnknownEntryType(f"no settlement rule for ledger entries of type {fact.type!r}")
    counts: dict[str, StoreCounts] = defaultdict(StoreCounts)
    here = fact.store_id or CHAIN
    if fact.type in EARNING or (fact.type == ADJUSTMENT and fact.points > 0):
        counts[here].issued += fact.points
    elif fact.type == RETURN:
        # `points` is what left the balance; `debt_change` what it could not cover, owed from now on.
        counts[fact.purchase_store_id or here].returned += fact.debt_change - fact.points
    elif fact.type == EXPIRY:
        for store, points in taken_from(fact).items():
            counts[store].expired += points
    elif fact.type in SPENDING:
        spent = counts[here]
        setattr(spent, SPENDING[fact.type], getattr(spent, SPENDING[fact.type]) - fact.points)
        for store, points in taken_from(fact).items():
            if store != here:  # the store's own points: it owes nobody
                spent.spent_from[store] = spent.spent_from.get(store, 0) + points
    return {store: c for store, c in counts.items() if not c.is_zero()}


def taken_from(fact: LedgerFact) -> dict[str, int]:
    """Points the entry took per issuing store (negative when it gave them back). Points its origins do
    not account for (entries written before origins were kept) are the chain's."""
    taken = {store: -points for store, points in (fact.origins or {}).items() if points}
    rest = -fact.points - sum(taken.values())
    if rest:
        taken[CHAIN] = taken.get(CHAIN, 0) + rest
    return taken


def local_day(moment: datetime, zone) -> date:
    """The program's calendar day of a moment: the day an entry is counted on."""
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class CounterRow:
    """One store's counter of one day (and one shard), as stored."""

    day: date
    store_id: str
    counts: StoreCounts


def add_up(rows: Iterable[CounterRow]) -> dict[str, StoreCounts]:
    """Every store's figures over the rows (every shard of every day read)."""
    totals: dict[str, StoreCounts] = defaultdict(StoreCounts)
    for row in rows:
        totals[row.store_id].add(row.counts)
    return dict(totals)


@dataclass(frozen=True)
class Position:
    counterparty: str
    receivable: int  # the counterparty's points spent at the store: the counterparty owes their value
    payable: int  # the store's points spent at the counterparty: the store owes their value

    @property
    def net(self) -> int:
        return self.receivable - self.payable


def positions(store_id: str, totals: Mapping[str, StoreCounts]) -> list[Position]:
    """The store's position against every other store points moved between, by counterparty."""
    own = totals.get(store_id, StoreCounts())
    others = set(own.spent_from) | {other for other, counts in totals.items() if counts.spent_from.get(store_id)}
    found = []
    for other in sorted(others - {store_id}):
        theirs = totals.get(other, StoreCounts())
        position = Position(other, own.spent_from.get(other, 0), theirs.spent_from.get(store_id, 0))
        if position.receivable or position.payable:
            found.append(position)
    return found


CENT = Decimal("0.01")


def money(points: int, points_per_unit: int) -> Decimal:
    """The value of `points` in the program's currency, to the cent (half to even)."""
    value = (Decimal(points) / Decimal(points_per_unit)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return value if value else Decimal("0.00")  # never "-0.00"


class SettlementQuery(BaseModel):
    model_config = ConfigDict(defer_build=True)

    from_date: date
    to_date: date
    store_id: str | None = None

    def check(self) -> None:
        if self.to_date < self.from_date:
            raise InvalidInput("to must not be before from", field="to")
        if (self.to_date - self.from_date).days + 1 > MAX_REPORT_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_REPORT_DAYS} days", field="to",
                               details={"max_days": MAX_REPORT_DAYS})
