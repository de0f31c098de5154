"""What each ledger entry adds to the settlement between stores, and how a period adds up. No AWS: the
entries are made by the ledger's own BalanceDraft, as the points capability writes them."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.kernel.errors import InvalidInput
from loyalty.points.events import PointsReturned
from loyalty.points.ledger import BalanceDraft, EntryType, LedgerEntry, PointsBalance, Reference
from loyalty.points.program import DEFAULT_RULES
from loyalty.settlement.domain import (
    CHAIN, ENTRY_TYPES, RETURN_EVENT, CounterRow, LedgerFact, SettlementQuery, StoreCounts, UnknownEntryType,
    add_up, contribution, money, positions,
)
from loyalty.settlement.service import Counted, SettlementCounting

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)
SH, HZ, CD = "SH-JINGAN", "HZ-XIHU", "CD-CHUNXI"
PURCHASE = Reference(kind="purchase", id="O-1")
REDEMPTION = Reference(kind="redemption", id="RD-1")
PAYMENT = Reference(kind="points_payment", id="PP-1")


def fact(entry: LedgerEntry, *, member_id: str = "mbr_1", purchase_store_id: str | None = None) -> LedgerFact:
    """The entry as the settlement consumer reads it from the stream."""
    return LedgerFact(item_key=(f"MEMBER#{member_id}", f"LEDGER#{entry.seq:012d}"), member_id=member_id,
                      type=entry.type.value, points=entry.points, debt_change=entry.debt_change,
                      store_id=entry.store_id, origins=entry.origins, recorded_at=entry.recorded_at,
                      purchase_store_id=purchase_store_id)


def counted(entry: LedgerEntry, **kwargs) -> dict[str, dict]:
    """What the entry adds, per store, as plain figures (zeros left out) with `spent_from`."""
    found = {}
    for store, counts in contribution(fact(entry, **kwargs)).items():
        figures = {name: value for name, value in counts.figures().items() if value}
        if counts.spent_from:
            figures["spent_from"] = counts.spent_from
        found[store] = figures
    return found


def draft(balance: PointsBalance | None = None, *, rules=DEFAULT_RULES, now: datetime = NOW) -> BalanceDraft:
    return BalanceDraft(balance or PointsBalance(member_id="mbr_1"), rules=rules, now=now)


def earn(d: BalanceDraft, points: int, store_id: str | None, *, pending: bool = False,
         entry_type: EntryType = EntryType.EARN) -> LedgerEntry:
    d.credit(points, entry_type=entry_type, reference=PURCHASE, reason="purchase", occurred_at=NOW,
             store_id=store_id, pending=pending)
    return next(e for e in reversed(d.entries) if e.type == entry_type)


def test_every_ledger_entry_type_has_a_settlement_rule():
    assert ENTRY_TYPES == {t.value for t in EntryType}
    assert RETURN_EVENT == PointsReturned.detail_type_name()


def test_earning_is_issued_at_its_store_pending_included_and_activation_counts_nothing():
    d = draft()
    assert counted(earn(d, 120, SH)) == {SH: {"issued": 120}}
    assert counted(earn(d, 80, HZ, pending=True)) == {HZ: {"issued": 80}}
    d.activate(80, earned_at=NOW, reference=Reference(kind="lot", id="L-1"), store_id=HZ)
    assert d.entries[-1].type == EntryType.ACTIVATION
    assert counted(d.entries[-1]) == {}


def test_bonuses_without_a_store_are_the_chains_and_activities_count_at_their_store():
    d = draft()
    assert counted(earn(d, 200, None, entry_type=EntryType.REFERRAL)) == {CHAIN: {"issued": 200}}
    assert counted(earn(d, 50, None, entry_type=EntryType.WELCOME)) == {CHAIN: {"issued": 50}}
    assert counted(earn(d, 5, CD, entry_type=EntryType.ACTIVITY)) == {CD: {"issued": 5}}


def test_adjustments_issue_points_when_they_add_them_and_are_not_settled_when_they_take_them():
    d = draft()
    d.adjust(30, reference=Reference(kind="adjustment", id="A-1"), reason="goodwill", client_id="bo", store_id=SH)
    assert counted(d.entries[-1]) == {SH: {"issued": 30}}
    d.adjust(-10, reference=Reference(kind="adjustment", id="A-2"), reason="fix", client_id="bo", store_id=SH)
    assert counted(d.entries[-1]) == {}


def test_a_return_takes_back_everything_it_claws_back_at_the_purchase_store_and_debt_repayment_not_again():
    d = draft()
    earn(d, 30, SH)
    d.claw_back(100, pending_available=0, reference=Reference(kind="return", id="R-1"), reason="return",
                occurred_at=NOW, store_id=HZ)  # returned in Hangzhou; 70 of it becomes debt
    returned = d.entries[-1]
    assert (returned.points, returned.debt_change) == (-30, 70)
    assert counted(returned, purchase_store_id=SH) == {SH: {"returned": 100}}
    assert counted(returned) == {HZ: {"returned": 100}}, "without its event: where the goods came back"
    earn(d, 100, CD)  # repays the debt first
    assert [e.type for e in d.entries[-2:]] == [EntryType.EARN, EntryType.DEBT_REPAYMENT]
    assert counted(d.entries[-2]) == {CD: {"issued": 100}}
    assert counted(d.entries[-1]) == {}


def test_spending_elsewhere_is_owed_by_the_issuing_store_and_a_cancellation_gives_it_back():
    d = draft()
    earn(d, 300, SH)
    earn(d, 100, HZ)
    taken = d.spend(200, entry_type=EntryType.REDEMPTION, reference=REDEMPTION, reason="gift", store_id=HZ)
    assert taken.origins == {SH: 150, HZ: 50}
    assert counted(d.entries[-1]) == {HZ: {"redeemed": 200, "spent_from": {SH: 150}}}  # HZ's own 50 owe nobody
    d.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL, reference=REDEMPTION, reason="cancelled",
                store_id=HZ)
    assert counted(d.entries[-1]) == {HZ: {"redeemed": -200, "spent_from": {SH: -150}}}


def test_spending_at_the_issuing_store_owes_nobody():
    d = draft()
    earn(d, 100, SH)
    d.spend(60, entry_type=EntryType.REDEMPTION, reference=REDEMPTION, reason="gift", store_id=SH)
    assert counted(d.entries[-1]) == {SH: {"redeemed": 60}}


def test_a_points_payment_counts_when_captured_and_comes_back_when_refunded():
    d = draft()
    earn(d, 500, SH)
    held = d.reserve(200, reference=PAYMENT, reason="hold", store_id="WEB")
    assert counted(d.entries[-1]) == {}, "a reservation moves points to reserved only"
    d.capture(held, reference=PAYMENT, reason="paid", store_id="WEB")
    assert counted(d.entries[-1]) == {"WEB": {"captured": 200, "spent_from": {SH: 200}}}
    d.give_back(held, entry_type=EntryType.PAYMENT_REFUND, reference=PAYMENT, reason="goods returned",
                store_id="WEB")
    assert counted(d.entries[-1]) == {"WEB": {"captured": -200, "spent_from": {SH: -200}}}
    voided = d.reserve(100, reference=Reference(kind="points_payment", id="PP-2"), reason="hold", store_id="WEB")
    d.release(voided, reference=Reference(kind="points_payment", id="PP-2"), reason="void", store_id="WEB")
    assert counted(d.entries[-1]) == {}


def test_expiry_counts_at_the_stores_that_issued_the_points():
    d = draft()
    earn(d, 30, SH)
    earn(d, 10, HZ)
    balance = d.finish()
    later = draft(balance, rules=DEFAULT_RULES.model_copy(update={"expiry_months": 1}),
                  now=NOW + timedelta(days=800))  # every bucket has ended: one expiry entry
    [expiry] = later.entries
    assert expiry.type == EntryType.EXPIRY and expiry.points == -40
    assert counted(expiry) == {SH: {"expired": 30}, HZ: {"expired": 10}}


def test_points_no_origin_accounts_for_are_the_chains():
    entry = LedgerEntry(entry_id="led_1", seq=9, type=EntryType.REDEMPTION, points=-100, available_change=-100,
                        pending_change=0, debt_change=0, balance_after=0, pending_after=0, debt_after=0,
                        origins={SH: -60}, store_id=HZ, reference=REDEMPTION, reason="gift", occurred_at=NOW,
                        recorded_at=NOW)
    assert counted(entry) == {HZ: {"redeemed": 100, "spent_from": {SH: 60, CHAIN: 40}}}
    expired = entry.model_copy(update={"type": EntryType.EXPIRY, "store_id": None, "origins": None})
    assert counted(expired) == {CHAIN: {"expired": 100}}


def test_an_entry_type_without_a_rule_is_refused_rather_than_counted_as_nothing():
    unknown = LedgerFact(item_key=("MEMBER#m", "LEDGER#000000000001"), member_id="m", type="transfer",
                         points=-5, recorded_at=NOW)
    with pytest.raises(UnknownEntryType):
        contribution(unknown)


# -- a period -----------------------------------------------------------------------------------------
def row(day: int, store_id: str, **figures) -> CounterRow:
    spent_from = figures.pop("spent_from", {})
    return CounterRow(day=date(2026, 11, day), store_id=store_id, counts=StoreCounts(**figures, spent_from=spent_from))


def test_a_period_adds_every_shard_and_day_and_nets_each_pair_of_stores():
    rows = [
        row(18, SH, issued=500),
        row(18, SH, issued=20, spent_from={HZ: 30}),  # another shard of the same day
        row(18, HZ, redeemed=200, spent_from={SH: 150, CHAIN: 10}),
        row(19, HZ, redeemed=-50, spent_from={SH: -50}),  # a cancellation the next day
        row(19, CD, captured=70, spent_from={SH: 70}),
        row(19, SH, expired=5),
    ]
    totals = add_up(rows)
    assert totals[SH].figures() == {"issued": 520, "returned": 0, "redeemed": 0, "expired": 5, "captured": 0}
    assert totals[HZ].spent_from == {SH: 100, CHAIN: 10}
    sh = {p.counterparty: (p.receivable, p.payable, p.net) for p in positions(SH, totals)}
    assert sh == {CD: (0, 70, -70), HZ: (30, 100, -70)}
    hz = {p.counterparty: (p.receivable, p.payable, p.net) for p in positions(HZ, totals)}
    assert hz == {CHAIN: (10, 0, 10), SH: (100, 30, 70)}
    assert [p.net for p in positions(CHAIN, totals)] == [-10]
    parties = set(totals) | {store for counts in totals.values() for store in counts.spent_from}
    everyone = [p.net for store in parties for p in positions(store, totals)]
    assert sum(everyone) == 0, "what one store is owed, another owes"


@pytest.mark.parametrize("points, rate, amount", [
    (150, 100, "1.50"), (-70, 100, "-0.70"), (0, 100, "0.00"), (1, 3, "0.33"), (-1, 1000, "0.00"), (5, 1000, "0.00"),
    (15, 1000, "0.02"), (25, 1000, "0.02"), (123456, 1, "123456.00"),
])
def test_money_is_the_points_value_to_the_cent(points, rate, amount):
    assert str(money(points, rate)) == amount
    assert isinstance(money(points, rate), Decimal)


@pytest.mark.parametrize("first, last, field", [
    (date(2026, 11, 18), date(2026, 11, 10), "to"),
    (date(2026, 1, 1), date(2026, 4, 3), "to"),  # 93 days; 92 is the most
])
def test_a_report_period_runs_forward_and_at_most_92_days(first, last, field):
    with pytest.raises(InvalidInput) as refused:
        SettlementQuery(from_date=first, to_date=last).check()
    assert refused.value.field == field
    SettlementQuery(from_date=date(2026, 1, 1), to_date=date(2026, 4, 2)).check()


# -- the use case -------------------------------------------------------------------------------------
class FakeCounters:
    def __init__(self):
        self.added: list[tuple] = []
        self.markers: set = set()

    def add(self, entry, day, adds, *, marker_until):
        if entry.item_key in self.markers:
            return False
        self.markers.add(entry.item_key)
        self.added.append((entry.item_key, day, dict(adds), marker_until))
        return True


class Rules:
    def __init__(self, timezone: str = "Asia/Shanghai"):
        self.rules = DEFAULT_RULES.model_copy(update={"timezone": timezone})

    def current(self):
        return self.rules


class Clock:
    def now(self):
        return NOW


def test_an_entry_counts_on_the_programs_local_day_it_was_recorded_once():
    counters = FakeCounters()
    counting = SettlementCounting(counters, Rules(), Clock())
    d = draft(now=datetime(2026, 11, 18, 17, 30, tzinfo=timezone.utc))  # 01:30 on the 19th in Shanghai
    entry = earn(d, 100, SH)
    assert counting.count(fact(entry)) == Counted.COUNTED
    assert counting.count(fact(entry)) == Counted.ALREADY_COUNTED
    [(key, day, adds, keep_until)] = counters.added
    assert day == date(2026, 11, 19) and adds[SH].issued == 100
    assert keep_until - NOW >= timedelta(days=15), "the marker outlives the stream's 24 hours and the DLQ's 14 days"
    assert SettlementCounting(FakeCounters(), Rules("UTC"), Clock()).count(fact(earn(d, 1, SH))) == Counted.COUNTED


def test_an_entry_that_moves_nothing_between_stores_writes_nothing():
    counters = FakeCounters()
    d = draft()
    earn(d, 100, SH)
    d.reserve(10, reference=PAYMENT, reason="hold", store_id=SH)
    assert SettlementCounting(counters, Rules(), Clock()).count(fact(d.entries[-1])) == Counted.NOTHING_TO_COUNT
    assert counters.added == []
