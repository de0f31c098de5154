"""What the KPI use cases need; adapters implement it, tests pass fakes in."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator, Mapping, Protocol

from loyalty.kernel.stores import Store
from loyalty.kpis.counting import Contribution, MemberMonth
from loyalty.kpis.report import DailyRow


class KpiAggregates(Protocol):
    def member_month(self, member_id: str, month: str) -> MemberMonth:
        """The member's item for the month (empty, version 0, when there is none)."""

    def add(self, event_id: str, member_id: str | None, contribution: Contribution, *,
            read: MemberMonth | None, marker_until: datetime) -> bool:
        """In ONE transaction: the event's marker (absent before), the counters, the running totals, the
        member's month conditioned on `read`'s version, and the touched-member mark for the day's
        reconciliation. False: the event was counted before and nothing changed. Raises ConcurrentUpdate
        when the member's month changed since it was read."""

    def rows(self, dimension: str, first: date, last: date) -> Iterator[DailyRow]:
        """Every shard's rows of a dimension for the days from `first` to `last`."""

    def store_rows(self, store_ids: list[str], first: date, last: date) -> Iterator[DailyRow]:
        """The rows of the named stores, read by key (not by scanning every store's rows)."""

    def cohorts(self, months: list[str]) -> dict[str, dict[str, int]]:
        """Enrollment month -> purchase month -> members of that cohort who bought in that month."""

    def totals(self) -> dict[str, Any]:
        """The running totals, summed over their shards."""

    def touched_members(self, day: date) -> Iterator[str]:
        """The members whose points changed on the day (as the events said)."""


class KpiRecords(Protocol):
    def put_digest(self, month: str, body: dict[str, Any], events: list) -> bool:
        """Store the month's digest with its event, once; False when it was stored already."""

    def get_digest(self, month: str) -> dict[str, Any] | None: ...

    def put_reconciliation(self, day: date, body: dict[str, Any], events: list) -> None:
        """Store (replace) the day's result, with its drift events."""

    def get_reconciliation(self, day: date) -> dict[str, Any] | None: ...


class MemberBooks(Protocol):
    def books(self, member_id: str, since: datetime) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
        """The balance item, and the member's ledger entries recorded since `since` plus the one before
        them, oldest first."""


class SettlementDay(Protocol):
    def day_totals(self, day: date) -> Mapping[str, int]:
        """The settlement counters' chain totals of the day: issued, returned, redeemed, captured, expired,
        and net_positions (the sum of every store's net position)."""


class ProgramTerms(Protocol):
    timezone: str
    currency: str
    points_per_currency_unit: int


class ProgramTermsSource(Protocol):
    def current(self) -> ProgramTerms: ...


class StoreCatalog(Protocol):
    def get_store(self, store_id: str) -> Store | None: ...
