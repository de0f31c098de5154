"""What the settlement use cases need; adapters implement it, tests pass fakes in."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterator, Mapping, Protocol

from loyalty.kernel.stores import Store
from loyalty.settlement.domain import CounterRow, LedgerFact, StoreCounts


class SettlementCounters(Protocol):
    def add(self, entry: LedgerFact, day: date, contribution: Mapping[str, StoreCounts], *,
            marker_until: datetime) -> bool:
        """Add the entry's contribution to the day's counters and leave a marker naming the entry, in
        ONE transaction, unless the marker is there already. False: the entry was counted before, and
        nothing changed. The marker is kept at least until `marker_until`."""

    def read(self, first: date, last: date) -> Iterator[CounterRow]:
        """Every counter of the days from `first` to `last` inclusive, of every shard."""


class ProgramTerms(Protocol):
    """What settlement reads of the program rules (the points capability's rules satisfy it)."""

    timezone: str
    currency: str
    points_per_currency_unit: int


class ProgramTermsSource(Protocol):
    def current(self) -> ProgramTerms: ...


class StoreCatalog(Protocol):
    def get_store(self, store_id: str) -> Store | None: ...

    def list_stores(self) -> list[Store]: ...
