"""Settlement use cases: count each ledger entry once as the stream delivers it, and report a period."""
from __future__ import annotations

from datetime import timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from loyalty.kernel.errors import StoreNotFound
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import Clock
from loyalty.settlement.domain import (
    FIGURES, LedgerFact, SettlementQuery, StoreCounts, add_up, contribution, local_day, money, positions,
)
from loyalty.settlement.ports import ProgramTermsSource, SettlementCounters, StoreCatalog
from loyalty.settlement.results import Position, SettlementFigures, SettlementReport, StoreSettlement

# How long an entry's marker outlives its counting: the stream redelivers a record for at most 24 hours,
# and an operator may feed a dead-lettered entry again within the dead-letter queue's 14 days.
MARKER_KEPT = timedelta(days=30)


class Counted(str, Enum):
    COUNTED = "counted"
    ALREADY_COUNTED = "already_counted"  # a redelivery: the entry's marker was there
    NOTHING_TO_COUNT = "nothing_to_count"  # activation, reservation... or figures that cancel out


class SettlementCounting:
    def __init__(self, counters: SettlementCounters, rules: ProgramTermsSource, clock: Clock):
        self._counters = counters
        self._rules = rules
        self._clock = clock

    def count(self, entry: LedgerFact) -> Counted:
        """Add one ledger entry to the counters of the program's local day it was recorded on, exactly
        once however often it is delivered. Raises UnknownEntryType for a type without a rule."""
        adds = contribution(entry)
        if not adds:
            return Counted.NOTHING_TO_COUNT
        day = local_day(entry.recorded_at, ZoneInfo(self._rules.current().timezone))
        counted = self._counters.add(entry, day, adds, marker_until=self._clock.now() + MARKER_KEPT)
        return Counted.COUNTED if counted else Counted.ALREADY_COUNTED


class SettlementReports:
    def __init__(self, counters: SettlementCounters, rules: ProgramTermsSource, stores: StoreCatalog, clock: Clock):
        self._counters = counters
        self._rules = rules
        self._stores = stores
        self._clock = clock

    def day_totals(self, day) -> dict[str, int]:
        """The chain's figures of one day and the sum of every store's net position (zero when the
        counters hold together): what the KPI reconciliation compares its own counts with."""
        totals = add_up(self._counters.read(day, day))
        summed = {name: sum(getattr(counts, name) for counts in totals.values()) for name in FIGURES}
        parties = set(totals) | {store for counts in totals.values() for store in counts.spent_from}
        summed["net_positions"] = sum(p.net for party in parties for p in positions(party, totals))
        return summed

    def report(self, query: SettlementQuery, client: ClientIdentity) -> SettlementReport:
        """Per store: the period's figures and its position against every other store, from the daily
        counters (every shard of every day: never the ledger)."""
        client.require(Scope.REPORTS_READ)
        query.check()
        if query.store_id is not None:
            client.require_store(query.store_id)
            if self._stores.get_store(query.store_id) is None:
                raise StoreNotFound(f"store {query.store_id} is not a store of this chain", field="store_id")
        terms = self._rules.current()
        totals = add_up(self._counters.read(query.from_date, query.to_date))
        if query.store_id is not None:
            shown = [query.store_id]
        else:
            # Every store of the chain, and whoever else has figures (the chain itself, a store since removed).
            parties = {s.store_id for s in self._stores.list_stores()} | set(totals)
            parties |= {store for counts in totals.values() for store in counts.spent_from}
            shown = sorted(p for p in parties if client.acts_for(p))
        rate = terms.points_per_currency_unit
        stores = []
        for store_id in shown:
            counts = totals.get(store_id, StoreCounts())
            against = [Position(counterparty=p.counterparty, receivable_points=p.receivable, payable_points=p.payable,
                                net_points=p.net, net_amount=money(p.net, rate)) for p in positions(store_id, totals)]
            # Each pair settles its own rounded amount, so a store's total is the sum of those amounts.
            stores.append(StoreSettlement(store_id=store_id, **counts.figures(),
                                          net_points=sum(p.net_points for p in against),
                                          net_amount=sum((p.net_amount for p in against), money(0, rate)),
                                          positions=against))
        summed = {name: sum(getattr(s, name) for s in stores) for name in FIGURES}
        return SettlementReport.model_validate({
            "from": query.from_date, "to": query.to_date, "store_id": query.store_id, "timezone": terms.timezone,
            "currency": terms.currency, "points_per_currency_unit": rate, "generated_at": self._clock.now(),
            "totals": SettlementFigures(**summed), "stores": stores})

