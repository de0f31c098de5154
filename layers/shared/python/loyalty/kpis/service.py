"""KPI use cases: count each event of the bus once, report a period, store the monthly digest, and
reconcile a day's books."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from loyalty.kernel.errors import ConcurrentUpdate, InvalidInput, StoreNotAllowed, StoreNotFound
from loyalty.kernel.identity import ALL_STORES, ClientIdentity, Scope
from loyalty.kernel.ports import Clock
from loyalty.kpis.counting import CHAIN, contribution, event_day, month_of, needs_member_month
from loyalty.kpis.errors import ReconciliationNotFound
from loyalty.kpis.events import MonthlyDigestReady, ReconciliationDrift
from loyalty.kpis.ports import (
    KpiAggregates, KpiRecords, MemberBooks, ProgramTermsSource, SettlementDay, StoreCatalog,
)
from loyalty.kpis.reconciliation import chain_checks, member_books
from loyalty.kpis.report import GROUP_BYS, fold, rows_of, figures, source_dimension
from loyalty.kpis.results import (
    ChainStanding, CohortRow, DigestFigure, Drift, KpiReport, MonthlyDigest, ReconciliationResult,
)

# An event's marker outlives every redelivery: SQS retries for the queue's retention (4 days) and an
# operator may redrive a dead-lettered message within the DLQ's 14 days.
MARKER_KEPT = timedelta(days=30)
MAX_REPORT_DAYS = 366
COUNT_ATTEMPTS = 4  # the member's month changed under us: read again and retry


class Counted(str, Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class KpiQuery(BaseModel):
    model_config = ConfigDict(defer_build=True)

    from_date: date
    to_date: date
    group_by: str = "store"
    store_id: str | None = None

    def check(self) -> None:
        if self.group_by not in GROUP_BYS:
            raise InvalidInput(f"group_by is one of {', '.join(GROUP_BYS)}", field="group_by")
        if self.to_date < self.from_date:
            raise InvalidInput("to must not be before from", field="to")
        if (self.to_date - self.from_date).days + 1 > MAX_REPORT_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_REPORT_DAYS} days", field="to",
                               details={"max_days": MAX_REPORT_DAYS})
        if self.store_id is not None and self.group_by not in ("store", "day", "month"):
            raise InvalidInput("with store_id, group_by is store, day or month", field="group_by")


class KpiCounting:
    def __init__(self, aggregates: KpiAggregates, rules: ProgramTermsSource, stores: StoreCatalog, clock: Clock):
        self._aggregates = aggregates
        self._rules = rules
        self._stores = stores
        self._clock = clock

    def _city(self, store_id: str) -> str | None:
        store = self._stores.get_store(store_id)
        return store.city if store is not None else None

    def count(self, event_id: str, detail_type: str, detail: Mapping[str, Any]) -> Counted:
        """Add one event to the aggregates exactly once, however often and in whatever order it comes."""
        zone = ZoneInfo(self._rules.current().timezone)
        member_id = detail.get("member_id")
        for attempt in range(COUNT_ATTEMPTS):
            read = None
            if member_id and needs_member_month(detail_type, detail):
                read = self._aggregates.member_month(member_id, month_of(event_day(detail_type, detail, zone)))
            adds = contribution(detail_type, detail, zone=zone, city_of=self._city, member_month=read)
            if adds.is_empty():
                return Counted.IGNORED
            try:
                counted = self._aggregates.add(event_id, member_id, adds, read=read,
                                               marker_until=self._clock.now() + MARKER_KEPT)
            except ConcurrentUpdate:
                if attempt + 1 == COUNT_ATTEMPTS:
                    raise
                continue
            return Counted.APPLIED if counted else Counted.DUPLICATE
        raise AssertionError("unreachable")


def _money(points: int, rate: int) -> Decimal:
    return (Decimal(points) / Decimal(rate)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


class KpiReports:
    def __init__(self, aggregates: KpiAggregates, rules: ProgramTermsSource, stores: StoreCatalog, clock: Clock):
        self._aggregates = aggregates
        self._rules = rules
        self._stores = stores
        self._clock = clock

    def report(self, query: KpiQuery, client: ClientIdentity) -> KpiReport:
        """The figures of a period per group, from the daily rows (never the events): each day and group
        reads one row per shard, whatever the chain's size."""
        client.require(Scope.KPIS_READ)
        query.check()
        chain_wide = ALL_STORES in client.store_ids
        if query.store_id is not None:
            client.require_store(query.store_id)
            if self._stores.get_store(query.store_id) is None:
                raise StoreNotFound(f"store {query.store_id} is not a store of this chain", field="store_id")
        elif not chain_wide and query.group_by not in ("store", "day", "month"):
            raise StoreNotAllowed("a key for some stores sees them by store, day or month", field="group_by")
        narrowed = query.store_id is not None or not chain_wide
        if narrowed:  # one store, or a key's own stores: their rows by key
            stores = [query.store_id] if query.store_id else sorted(client.store_ids)
            rows = list(self._aggregates.store_rows(stores, query.from_date, query.to_date))
        else:
            rows = list(self._aggregates.rows(source_dimension(query.group_by), query.from_date, query.to_date))
        groups = fold(rows, query.group_by)
        total = fold(rows, "chain").get(CHAIN, {})
        terms = self._rules.current()
        return KpiReport.model_validate({
            "from": query.from_date, "to": query.to_date, "group_by": query.group_by, "store_id": query.store_id,
            "timezone": terms.timezone, "currency": terms.currency, "generated_at": self._clock.now(),
            "rows": rows_of(groups, query.group_by, query.from_date, query.to_date),
            "totals": figures(total, days=(query.to_date - query.from_date).days + 1),
            "standing": None if narrowed else self._standing(terms.points_per_currency_unit),
            "cohorts": self._cohorts(groups) if query.group_by == "month" and not narrowed else None,
        })

    def _cohorts(self, months: dict[str, dict[str, Any]]) -> list[CohortRow]:
        """Cohort retention by enrollment month: the share of each month's new members who bought in it and
        in every later month (the cohort counters count a member once per month)."""
        found = self._aggregates.cohorts(sorted(months))
        rows = []
        for month in sorted(months):
            members = int(months[month].get("new_members", 0))
            buyers = dict(sorted(found.get(month, {}).items()))
            rows.append(CohortRow(month=month, members=members, buyers=buyers, retention={
                later: (Decimal(count) / members).quantize(Decimal("0.0001")) for later, count in buyers.items()
                if members}))
        return rows

    def _standing(self, rate: int) -> ChainStanding:
        totals = self._aggregates.totals()
        members, spend = int(totals.get("members", 0)), Decimal(totals.get("spend", 0)).quantize(Decimal("0.01"))
        outstanding = int(totals.get("outstanding", 0))
        return ChainStanding(
            members=members, lifetime_spend=spend,
            historic_lifetime_value=(spend / members).quantize(Decimal("0.01")) if members else None,
            points_outstanding=outstanding, liability=_money(outstanding, rate),
            tiers={k[len("tier:"):]: int(v) for k, v in sorted(totals.items()) if k.startswith("tier:")})


DIGEST_FIGURES = ("new_members", "active_members_month", "orders", "spend", "average_ticket", "buyers",
                  "repurchase_rate", "points_issued", "points_redeemed", "points_expired", "feedback", "nps")


def _month_range(month: str) -> tuple[date, date]:
    year, number = map(int, month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _previous(month: str) -> str:
    first, _ = _month_range(month)
    return month_of(first - timedelta(days=1))


class KpiDigests:
    def __init__(self, aggregates: KpiAggregates, records: KpiRecords, rules: ProgramTermsSource, clock: Clock):
        self._aggregates = aggregates
        self._records = records
        self._rules = rules
        self._clock = clock

    def _chain(self, month: str):
        first, last = _month_range(month)
        summed = fold(self._aggregates.rows("chain", first, last), "chain").get(CHAIN, {})
        return figures(summed, days=(last - first).days + 1)

    def store_last_month(self, month: str | None = None) -> MonthlyDigest:
        """The month's chain figures against the month before, stored once with MonthlyDigestReady.v1
        (default: the month that ended, in the program's zone)."""
        now = self._clock.now()
        if month is None:
            month = _previous(month_of(now.astimezone(ZoneInfo(self._rules.current().timezone)).date()))
        previous = _previous(month)
        this, last = self._chain(month), self._chain(previous)
        rows = []
        for name in DIGEST_FIGURES:
            a, b = getattr(this, name), getattr(last, name)
            change = percent = None
            if a is not None and b is not None:
                change = Decimal(a) - Decimal(b)
                percent = (Decimal(100) * change / Decimal(b)).quantize(Decimal("0.1")) if b else None
            rows.append(DigestFigure(figure=name, this_month=None if a is None else str(a),
                                     last_month=None if b is None else str(b),
                                     change=None if change is None else str(change),
                                     change_percent=None if percent is None else str(percent)))
        event = MonthlyDigestReady(occurred_at=now, month=month, previous_month=previous, orders=this.orders,
                                   spend=str(this.spend), new_members=this.new_members,
                                   active_members_month=this.active_members_month)
        digest = MonthlyDigest(month=month, previous_month=previous, figures=rows, created=True)
        created = self._records.put_digest(month, digest.model_dump(mode="json"), [event])
        if not created:
            stored = self._records.get_digest(month) or digest.model_dump(mode="json")
            return MonthlyDigest.model_validate({**stored, "created": False})
        return digest


class Reconciliation:
    def __init__(self, aggregates: KpiAggregates, records: KpiRecords, books: MemberBooks,
                 settlement: SettlementDay, rules: ProgramTermsSource, clock: Clock):
        self._aggregates = aggregates
        self._records = records
        self._books = books
        self._settlement = settlement
        self._rules = rules
        self._clock = clock

    def run(self, day: date | None = None, *, should_continue: Callable[[], bool] = lambda: True
            ) -> ReconciliationResult:
        """Prove a day's books (default: yesterday in the program's zone): every member whose points changed
        that day, then the chain's figures. Reads the day's changes, not all members or all history.
        Drift is stored, announced (ReconciliationDrift.v1) and answered, never corrected."""
        zone = ZoneInfo(self._rules.current().timezone)
        now = self._clock.now()
        if day is None:
            day = now.astimezone(zone).date() - timedelta(days=1)
        since = datetime.combine(day, time(0), tzinfo=zone)
        findings, members, checks = [], 0, 0
        complete = True
        for member_id in self._aggregates.touched_members(day):
            if not should_continue():
                complete = False
                break
            balance, entries = self._books.books(member_id, since)
            findings += member_books(member_id, balance, entries)
            members += 1
            checks += 1
        summed = fold(self._aggregates.rows("chain", day, day), "chain").get(CHAIN, {})
        findings += chain_checks(summed, self._settlement.day_totals(day))
        checks += 1
        drifts = [Drift(scope=f.scope, subject=f.subject, check=f.check, expected=f.expected, actual=f.actual)
                  for f in findings]
        result = ReconciliationResult(day=day, members_checked=members, checks=checks, drifts=drifts,
                                      completed_at=now, complete=complete)
        events = [ReconciliationDrift(occurred_at=now, day=day, **d.model_dump()) for d in drifts]
        self._records.put_reconciliation(day, result.model_dump(mode="json"), events)
        return result

    def stored(self, day: date, client: ClientIdentity) -> ReconciliationResult:
        client.require(Scope.KPIS_READ)
        if ALL_STORES not in client.store_ids:
            raise StoreNotAllowed("the reconciliation covers the whole chain: a chain-wide key reads it",
                                  field="date")
        found = self._records.get_reconciliation(day)
        if found is None:
            raise ReconciliationNotFound(f"no reconciliation has run for {day.isoformat()}", field="date")
        return ReconciliationResult.model_validate(found)
