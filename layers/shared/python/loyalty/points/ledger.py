"""A member's points balance and the ledger entries that explain every change to it.

The balance holds counters only (and a bounded map of expiry-month buckets); history lives in ledger
entries, one item each. Every change is computed here, on a draft, and written with its entries in one
transaction. For every entry `points == available_change + pending_change`, and over a member's whole
ledger the changes sum to the balance: available, pending and debt alike."""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Callable

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.spending import SpentPoints
from loyalty.points.entries import CHAIN_ORIGIN, EntryType, LedgerEntry, Reference
from loyalty.points.errors import InsufficientPoints, MemberInDebt
from loyalty.kernel.ids import new_id

if TYPE_CHECKING:
    from loyalty.points.program import ProgramRules

EXPIRING_MONTHS_SHOWN = 6  # the balance read's `expiring`: the next this many month-ends that hold points


class PointsBalance(BaseModel):
    model_config = ConfigDict(defer_build=True)

    member_id: str
    available: int = 0
    pending: int = 0
    debt: int = 0
    reserved: int = Field(default=0, description="Held for points payments not yet captured or voided")
    lifetime_earned: int = 0
    purchase_count: int = 0
    buckets: dict[str, int] = Field(default_factory=dict, description="Expiry month (YYYY-MM) -> available points")
    origins: dict[str, int] = Field(default_factory=dict, description="Earning store -> available points")
    version: int = Field(default=0, description="0 while nothing is stored; each write adds one")
    ledger_seq: int = 0
    updated_at: datetime | None = None
    expiry_noticed: list[str] = Field(
        default_factory=list, description="Expiry months (YYYY-MM) whose PointsExpiringSoon notice went out; "
                                          "kept until the month ends")
    tier_standing: dict | None = Field(
        default=None, description="The member's tier standing, kept by the tiers capability (kernel.standing): "
                                  "written with the balance, never read here")
    expiry_check_on: date | None = Field(
        default=None, description="The day the expiry job next has work for this member: the day after its "
                                  "soonest month ends, or the day a month's notice is due if that is earlier; "
                                  "None when no points expire. The repository indexes the balance by it")

    def summary(self) -> dict:
        return {"available": self.available, "pending": self.pending, "debt": self.debt, "reserved": self.reserved}

    def expiring(self, today: date, months: int = EXPIRING_MONTHS_SHOWN) -> list[dict]:
        """What expires next: points per month for the next `months` month-ends that hold any."""
        live = [(month, points) for month, points in sorted(self.buckets.items())
                if points > 0 and month_end(month) >= today]
        return [{"month": month, "expires_on": month_end(month).isoformat(), "points": points}
                for month, points in live[:months]]

    def view(self, today: date) -> dict:
        view = {"member_id": self.member_id, **self.summary(), "lifetime_earned": self.lifetime_earned,
                "expiring": self.expiring(today)}
        if self.updated_at is not None:
            view["updated_at"] = self.updated_at.isoformat()
        return view


def expiry_month(earned_on: date, months: int) -> str:  # the rolling_months policy; see ProgramRules.expiry_month
    """Points earned in a month expire at the end of the Nth month after it."""
    index = earned_on.year * 12 + earned_on.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


@dataclass(frozen=True)
class Credit:
    points: int
    to_available: int
    to_pending: int
    debt_repaid: int


@dataclass(frozen=True)
class ClawBack:
    points: int
    from_pending: int
    from_available: int
    debt_added: int


Taken = SpentPoints  # where spent or held points came from: expiry months and earning stores


class BalanceDraft:
    """A balance being changed: apply operations, then take `balance` and `entries` to the writer.

    Points whose expiry month has ended are expired first (by the member's next write, or by the daily
    expiry job, whichever comes first), so the bucket map holds only live months and stays bounded."""

    def __init__(self, balance: PointsBalance, *, rules: "ProgramRules", now: datetime,
                 new_entry_id: Callable[[], str] = lambda: new_id("led")):
        self.before = balance
        self.balance = balance.model_copy(deep=True)
        self.entries: list[LedgerEntry] = []
        self._rules = rules
        self._now = now
        self._new_entry_id = new_entry_id
        self._zone = rules.zone()
        self.today = now.astimezone(self._zone).date()
        self.expired: dict[str, int] = {}  # month -> points this draft expired
        unknown = max(self.balance.available, 0) - sum(self.balance.origins.values())
        if unknown > 0:  # balances written before origins were kept: their points count as the chain's
            self.balance.origins[CHAIN_ORIGIN] = self.balance.origins.get(CHAIN_ORIGIN, 0) + unknown
        self._expire_due()

    # -- operations -----------------------------------------------------------------------------
    def credit(self, points: int, *, entry_type: EntryType, reference: Reference, reason: str, occurred_at: datetime,
               store_id: str | None = None, pending: bool = False, counts_as_earned: bool = True,
               client_id: str | None = None) -> Credit:
        """Add earned points (to pending when they wait out a return window); outstanding debt is paid first."""
        if points < 0:
            raise ValueError("credit takes a non-negative number of points")
        month = self._expiry_month(occurred_at)
        if pending:
            self._entry(entry_type, pending_change=points, reference=reference, reason=reason,
                        occurred_at=occurred_at, store_id=store_id, client_id=client_id, month=month)
        else:
            self._entry(entry_type, available_change=points, reference=reference, reason=reason,
                        occurred_at=occurred_at, store_id=store_id, client_id=client_id, month=month)
        if counts_as_earned:
            self.balance.lifetime_earned += points
        repaid = self._repay_debt(points, pending=pending, reference=reference, occurred_at=occurred_at,
                                  store_id=store_id, month=month)
        kept = points - repaid
        return Credit(points=points, to_available=0 if pending else kept, to_pending=kept if pending else 0,
                      debt_repaid=repaid)

    def claw_back(self, points: int, *, pending_available: int, reference: Reference, reason: str,
                  occurred_at: datetime, store_id: str | None) -> ClawBack:
        """Take back returned points: from the purchase's still-pending points first, then from available;
        what the balance cannot cover becomes debt (or a negative balance, as the program says)."""
        from_pending = min(pending_available, points)
        rest = points - from_pending
        from loyalty.points.program import DebtPolicy  # the rules' module loads with the use cases

        if self._rules.debt_policy == DebtPolicy.DEBT:
            from_available = min(max(self.balance.available, 0), rest)
            debt_added = rest - from_available
        else:
            from_available, debt_added = rest, 0
        self._entry(EntryType.RETURN, pending_change=-from_pending, available_change=-from_available,
                    debt_change=debt_added, reference=reference, reason=reason, occurred_at=occurred_at,
                    store_id=store_id)
        self.balance.lifetime_earned -= points
        return ClawBack(points=points, from_pending=from_pending, from_available=from_available, debt_added=debt_added)

    def activate(self, points: int, *, earned_at: datetime, reference: Reference, store_id: str | None) -> int:
        """Move a lot from pending to available; debt is paid first. Returns the points made available."""
        month = self._expiry_month(earned_at)
        self._entry(EntryType.ACTIVATION, pending_change=-points, available_change=points, reference=reference,
                    reason="return window over: points now available", occurred_at=self._now,
                    store_id=store_id, month=month)
        repaid = self._repay_debt(points, pending=False, reference=reference, occurred_at=self._now,
                                  store_id=store_id, month=month)
        return points - repaid

    def adjust(self, points: int, *, reference: Reference, reason: str, client_id: str,
               store_id: str | None) -> Credit:
        """A back-office correction. Taking points away may not take available below zero."""
        if points > 0:
            return self.credit(points, entry_type=EntryType.ADJUSTMENT, reference=reference, reason=reason,
                               occurred_at=self._now, store_id=store_id, counts_as_earned=False,
                               client_id=client_id)
        if self.balance.available + points < 0:
            raise InsufficientPoints(
                f"the member has {max(self.balance.available, 0)} available points; cannot take {-points}",
                field="points", details={"available": self.balance.available},
            )
        self._entry(EntryType.ADJUSTMENT, available_change=points, reference=reference, reason=reason,
                    occurred_at=self._now, store_id=store_id, client_id=client_id)
        return Credit(points=points, to_available=points, to_pending=0, debt_repaid=0)

    # -- spending -------------------------------------------------------------------------------
    def spend(self, points: int, *, entry_type: EntryType, reference: Reference, reason: str,
              store_id: str | None, client_id: str | None = None) -> Taken:
        """Spend available points (a redemption): the soonest-expiring first. Refused while the member
        owes points, or when the available balance is short; nothing is changed then."""
        self._require_spendable(points)
        taken = self._take(points)
        self._entry(entry_type, available_change=-points, reference=reference, reason=reason,
                    occurred_at=self._now, store_id=store_id, client_id=client_id, rebucket=False,
                    origins={store: -n for store, n in taken.origins.items()})
        return taken

    def reserve(self, points: int, *, reference: Reference, reason: str, store_id: str | None) -> Taken:
        """Hold points for a payment: they leave `available` for `reserved` until captured or released."""
        self._require_spendable(points)
        taken = self._take(points)
        self._entry(EntryType.RESERVATION, available_change=-points, reserved_change=points, reference=reference,
                    reason=reason, occurred_at=self._now, store_id=store_id, rebucket=False)
        return taken

    def capture(self, taken: Taken, *, reference: Reference, reason: str, store_id: str | None) -> None:
        """The held points are paid: they leave the member's points for good."""
        self._entry(EntryType.CAPTURE, reserved_change=-taken.points, reference=reference, reason=reason,
                    occurred_at=self._now, store_id=store_id, rebucket=False,
                    origins={store: -n for store, n in taken.origins.items()})

    def release(self, taken: Taken, *, reference: Reference, reason: str, store_id: str | None) -> int:
        """The held points go back where they came from (a void, or a reservation that timed out); debt
        from a return made while they were held is repaid first. Returns the points made available."""
        before = self.balance.available
        self._entry(EntryType.RELEASE, reserved_change=-taken.points, available_change=taken.points,
                    reference=reference, reason=reason, occurred_at=self._now, store_id=store_id, rebucket=False)
        self._put_back(taken, before)
        self._repay_debt_from_returned(taken, reference=reference, store_id=store_id)
        return self.balance.available - before

    def give_back(self, taken: Taken, *, entry_type: EntryType, reference: Reference, reason: str,
                  store_id: str | None) -> int:
        """Spent points come back (a cancelled redemption, a refund of points paid): into the months and
        stores they were taken from; debt is repaid first. Returns the points made available."""
        before = self.balance.available
        self._entry(entry_type, available_change=taken.points, reference=reference, reason=reason,
                    occurred_at=self._now, store_id=store_id, rebucket=False, origins=dict(taken.origins))
        self._put_back(taken, before)
        self._repay_debt_from_returned(taken, reference=reference, store_id=store_id)
        return self.balance.available - before

    def _require_spendable(self, points: int) -> None:
        if points <= 0:
            raise ValueError("spending takes a positive number of points")
        if self.balance.debt > 0:
            raise MemberInDebt(
                f"the member owes {self.balance.debt} points from earlier returns; they are repaid before spending",
                field="member_id", details={"debt": self.balance.debt, "available": max(self.balance.available, 0)})
        if self.balance.available < points:
            raise InsufficientPoints(
                f"the member has {max(self.balance.available, 0)} available points; {points} are needed",
                field="points", details={"available": max(self.balance.available, 0), "needed": points})

    def _take(self, points: int) -> Taken:
        months = _take_in_order(self.balance.buckets, points)
        origins = _take_in_proportion(self.balance.origins, points)
        return Taken(points=points, months=months, origins=origins)

    def _put_back(self, taken: Taken, available_before: int) -> None:
        if self._rules.points_expire:
            for month, n in taken.months.items():
                self.balance.buckets[month] = self.balance.buckets.get(month, 0) + n
        for store, n in taken.origins.items():
            self.balance.origins[store] = self.balance.origins.get(store, 0) + n
        # Below zero (the negative-balance policy), part of what came back only filled the hole: the
        # months and stores keep summing to the positive part of available.
        covered = max(available_before, 0) + taken.points - max(self.balance.available, 0)
        if covered > 0:
            _take_in_order(self.balance.buckets, covered)
            _take_in_proportion(self.balance.origins, covered)
        self._expire_due()  # a month that ended while the points were away expires now

    # -- expiry notices ---------------------------------------------------------------------------
    def announce_expiring(self) -> dict[str, int]:
        """Months (with their points) that expire within the rules' notice days and were not announced
        yet; they are marked announced, so each (member, month) is announced once. Empty when the rules
        send no notices."""
        days = self._rules.expiry_notice_days
        if days <= 0:
            return {}
        horizon = self.today + timedelta(days=days)
        due = {month: points for month, points in sorted(self.balance.buckets.items())
               if points > 0 and self.today <= month_end(month) <= horizon
               and month not in self.balance.expiry_noticed}
        self.balance.expiry_noticed = sorted({*self.balance.expiry_noticed, *due})
        return due

    def _repay_debt_from_returned(self, taken: Taken, *, reference: Reference, store_id: str | None) -> None:
        """Debt is repaid out of points that came back, as far as they are still available (some may
        have expired on the way back)."""
        self._repay_debt(min(taken.points, max(self.balance.available, 0)), pending=False, reference=reference,
                         occurred_at=self._now, store_id=store_id, month=None)

    def finish(self) -> PointsBalance:
        self.balance.version = self.before.version + 1
        self.balance.updated_at = self._now
        self.balance.expiry_noticed = [m for m in self.balance.expiry_noticed if month_end(m) >= self.today]
        self.balance.expiry_check_on = self._next_expiry_check()
        return self.balance

    def _next_expiry_check(self) -> date | None:
        """The day the expiry job must next look at this balance: the day after its soonest month ends,
        or the notice day of its soonest month not yet announced when that comes first. Never before
        tomorrow: today's run may be over (a notice due already goes out tomorrow, a little late)."""
        live = sorted(month for month, points in self.balance.buckets.items() if points > 0)
        if not live:
            return None
        check = month_end(live[0]) + timedelta(days=1)
        days = self._rules.expiry_notice_days
        if days > 0:
            unannounced = next((m for m in live if m not in self.balance.expiry_noticed), None)
            if unannounced is not None:
                check = min(check, month_end(unannounced) - timedelta(days=days))
        return max(check, self.today + timedelta(days=1))

    # -- internals ------------------------------------------------------------------------------
    def _expiry_month(self, earned_at: datetime) -> str | None:
        return self._rules.expiry_month(earned_at.astimezone(self._zone).date())

    def _expire_due(self) -> None:
        """One entry for every month that has ended (however long the member was away)."""
        due = sorted(m for m in self.balance.buckets if month_end(m) < self.today)
        points = sum(self.balance.buckets[m] for m in due)
        if not due:
            return
        if points <= 0:
            for month in due:
                del self.balance.buckets[month]
            return
        for month in due:
            self.expired[month] = self.expired.get(month, 0) + self.balance.buckets[month]
        last = due[-1]
        ends = datetime.combine(month_end(last), time(23, 59, 59), tzinfo=self._zone)
        months = last if len(due) == 1 else f"{due[0]} to {last}"
        self._entry(EntryType.EXPIRY, available_change=-points, reference=Reference(kind="expiry", id=last),
                    reason=f"points expiring at the end of {months} expired", occurred_at=ends)

    def _repay_debt(self, points: int, *, pending: bool, reference: Reference, occurred_at: datetime,
                    store_id: str | None, month: str | None) -> int:
        repaid = min(self.balance.debt, points)
        if repaid <= 0:
            return 0
        changes = {"pending_change": -repaid} if pending else {"available_change": -repaid}
        self._entry(EntryType.DEBT_REPAYMENT, **changes, debt_change=-repaid, reference=reference,
                    reason=f"{repaid} points repay debt from earlier returns", occurred_at=occurred_at,
                    store_id=store_id, month=month)
        return repaid

    def _entry(self, entry_type: EntryType, *, reference: Reference, reason: str, occurred_at: datetime,
               available_change: int = 0, pending_change: int = 0, debt_change: int = 0, reserved_change: int = 0,
               store_id: str | None = None, client_id: str | None = None, month: str | None = None,
               rebucket: bool = True, origins: dict[str, int] | None = None) -> LedgerEntry:
        b = self.balance
        before_available = b.available
        b.available += available_change
        b.pending += pending_change
        b.debt += debt_change
        b.reserved += reserved_change
        if rebucket:
            taken = self._rebucket(before_available, b.available, month, store_id)
            if entry_type == EntryType.EXPIRY:
                origins = {store: -n for store, n in taken.items()}
        b.ledger_seq += 1
        entry = LedgerEntry(
            entry_id=self._new_entry_id(), seq=b.ledger_seq, type=entry_type,
            points=available_change + pending_change + reserved_change, available_change=available_change,
            pending_change=pending_change, debt_change=debt_change, reserved_change=reserved_change,
            balance_after=b.available, pending_after=b.pending, debt_after=b.debt, reserved_after=b.reserved,
            store_id=store_id, reference=reference, reason=reason, occurred_at=occurred_at, recorded_at=self._now,
            client_id=client_id, origins=origins or None,
        )
        self.entries.append(entry)
        return entry

    def _rebucket(self, before: int, after: int, month: str | None, store_id: str | None) -> dict[str, int]:
        """Keep the buckets and the origins each summing to the positive part of `available`: gains go to
        the earning's expiry month and store; losses come out of the soonest-expiring months first and
        out of the stores in proportion. Returns the points taken per store."""
        change = max(after, 0) - max(before, 0)
        if change > 0:
            if month is not None:
                self.balance.buckets[month] = self.balance.buckets.get(month, 0) + change
            origin = store_id or CHAIN_ORIGIN
            self.balance.origins[origin] = self.balance.origins.get(origin, 0) + change
        elif change < 0:
            _take_in_order(self.balance.buckets, -change)
            return _take_in_proportion(self.balance.origins, -change)
        return {}


def _take_in_order(buckets: dict[str, int], points: int) -> dict[str, int]:
    """Take up to `points` from the buckets in key order (soonest month first); returns what was taken."""
    taken: dict[str, int] = {}
    for key in sorted(buckets):
        if points <= 0:
            break
        take = min(buckets[key], points)
        if take > 0:
            taken[key] = take
            buckets[key] -= take
            points -= take
        if buckets[key] <= 0:
            del buckets[key]
    return taken


def _take_in_proportion(shares: dict[str, int], points: int) -> dict[str, int]:
    """Take `points` (at most what the shares hold) from every share in proportion to its size, whole
    points by largest remainder, ties to the smaller key; returns what was taken from each."""
    total = sum(n for n in shares.values() if n > 0)
    points = min(points, total)
    if points <= 0:
        return {}
    exact = {key: n * points for key, n in shares.items() if n > 0}
    taken = {key: value // total for key, value in exact.items()}
    rest = points - sum(taken.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] % total), k))[:rest]:
        taken[key] += 1
    for key, n in taken.items():
        shares[key] -= n
        if shares[key] <= 0:
            del shares[key]
    return {key: n for key, n in taken.items() if n > 0}


def split_taken(taken: Taken, points: int) -> tuple[Taken, Taken]:
    """Split spent points in two: `points` of them (from every month and store in proportion) and the rest."""
    months, origins = dict(taken.months), dict(taken.origins)
    part = Taken(points=points, months=_take_in_proportion(months, points),
                 origins=_take_in_proportion(origins, points))
    return part, Taken(points=taken.points - points, months=months, origins=origins)
