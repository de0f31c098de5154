"""Balance changes and the ledger entries explaining them: debt, repayment, pending, expiry. No AWS."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from loyalty.points.errors import InsufficientPoints, OccurredInFuture, SubmittedTooLate
from loyalty.points.earning import check_occurred_at
from loyalty.points.ledger import BalanceDraft, EntryType, PointsBalance, Reference, expiry_month, month_end
from loyalty.points.program import DEFAULT_RULES, DebtPolicy

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)
REF = Reference(kind="purchase", id="O-1")
RULES = DEFAULT_RULES


def draft(balance: PointsBalance | None = None, *, rules=RULES, now=NOW) -> BalanceDraft:
    return BalanceDraft(balance or PointsBalance(member_id="m"), rules=rules, now=now)


def earn(d: BalanceDraft, points: int, *, pending: bool = False, at: datetime = NOW):
    return d.credit(points, entry_type=EntryType.EARN, reference=REF, reason="purchase", occurred_at=at,
                    store_id="SH-JINGAN", pending=pending)


def claw(d: BalanceDraft, points: int, *, pending_available: int = 0):
    return d.claw_back(points, pending_available=pending_available, reference=Reference(kind="return", id="R"),
                       reason="return", occurred_at=NOW, store_id="SH-JINGAN")


def assert_ledger_explains(balance: PointsBalance, entries) -> None:
    assert balance.available == sum(e.available_change for e in entries)
    assert balance.pending == sum(e.pending_change for e in entries)
    assert balance.debt == sum(e.debt_change for e in entries)
    assert all(e.points == e.available_change + e.pending_change for e in entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    if entries:
        assert entries[-1].balance_after == balance.available


def test_credit_adds_to_available_and_writes_one_entry():
    d = draft()
    credit = earn(d, 120)
    balance = d.finish()
    assert (balance.available, balance.lifetime_earned, balance.version) == (120, 120, 1)
    assert credit.to_available == 120 and credit.debt_repaid == 0
    assert [e.type for e in d.entries] == [EntryType.EARN]
    assert_ledger_explains(balance, d.entries)


def test_claw_back_beyond_the_balance_becomes_debt_never_dropped():
    d = draft()
    earn(d, 30)
    clawed = claw(d, 100)
    assert (clawed.from_available, clawed.debt_added) == (30, 70)
    assert (d.balance.available, d.balance.debt) == (0, 70)
    entry = d.entries[-1]
    assert (entry.type, entry.points, entry.debt_change, entry.debt_after) == (EntryType.RETURN, -30, 70, 70)
    assert_ledger_explains(d.balance, d.entries)


def test_later_earning_pays_the_debt_first_and_the_ledger_shows_it():
    d = draft(PointsBalance(member_id="m", debt=70, version=3, ledger_seq=0))
    credit = earn(d, 100)
    assert credit.debt_repaid == 70 and credit.to_available == 30
    assert [e.type for e in d.entries] == [EntryType.EARN, EntryType.DEBT_REPAYMENT]
    repayment = d.entries[1]
    assert (repayment.points, repayment.debt_change, repayment.balance_after, repayment.debt_after) == (-70, -70, 30, 0)
    assert (d.balance.available, d.balance.debt) == (30, 0)


def test_small_earnings_pay_debt_down_in_part():
    d = draft(PointsBalance(member_id="m", debt=70))
    assert earn(d, 20).debt_repaid == 20
    assert (d.balance.available, d.balance.debt) == (0, 50)


def test_negative_balance_policy_lets_available_go_below_zero_instead_of_debt():
    rules = RULES.model_copy(update={"debt_policy": DebtPolicy.NEGATIVE_BALANCE})
    d = draft(rules=rules)
    earn(d, 30)
    clawed = claw(d, 100)
    assert (clawed.from_available, clawed.debt_added) == (100, 0)
    assert (d.balance.available, d.balance.debt) == (-70, 0)
    earn(d, 100)
    assert d.balance.available == 30
    assert_ledger_explains(d.balance, d.entries)


def test_claw_back_takes_the_purchase_pending_points_first():
    d = draft()
    earn(d, 50)
    earn(d, 80, pending=True)
    clawed = claw(d, 100, pending_available=80)
    assert (clawed.from_pending, clawed.from_available, clawed.debt_added) == (80, 20, 0)
    assert (d.balance.available, d.balance.pending) == (30, 0)
    assert_ledger_explains(d.balance, d.entries)


def test_pending_earning_repays_debt_out_of_the_pending_points():
    d = draft(PointsBalance(member_id="m", debt=30))
    credit = earn(d, 100, pending=True)
    assert (credit.to_pending, credit.debt_repaid) == (70, 30)
    assert (d.balance.pending, d.balance.available, d.balance.debt) == (70, 0, 0)


def test_activation_moves_pending_to_available_and_changes_nothing_else():
    d = draft(PointsBalance(member_id="m", pending=70, available=5, buckets={"2028-11": 5}))
    made_available = d.activate(70, earned_at=NOW - timedelta(days=7), reference=Reference(kind="lot", id="L"),
                                store_id="SH-JINGAN")
    entry = d.entries[-1]
    assert made_available == 70
    assert (entry.type, entry.points, entry.available_change, entry.pending_change) == (EntryType.ACTIVATION, 0, 70, -70)
    assert (d.balance.available, d.balance.pending) == (75, 0)


def test_negative_adjustment_cannot_take_available_below_zero():
    d = draft(PointsBalance(member_id="m", available=40))
    with pytest.raises(InsufficientPoints):
        d.adjust(-41, reference=Reference(kind="adjustment", id="A"), reason="fix", client_id="bo", store_id=None)
    d.adjust(-40, reference=Reference(kind="adjustment", id="A"), reason="fix", client_id="bo", store_id=None)
    assert d.balance.available == 0 and d.entries[-1].client_id == "bo"


def test_positive_adjustment_is_not_lifetime_earning():
    d = draft()
    d.adjust(25, reference=Reference(kind="adjustment", id="A"), reason="goodwill", client_id="bo", store_id=None)
    assert (d.balance.available, d.balance.lifetime_earned) == (25, 0)


# -- expiry ---------------------------------------------------------------------------------------------
def test_expiry_month_is_the_nth_month_after_earning():
    assert expiry_month(date(2026, 11, 18), 24) == "2028-11"
    assert expiry_month(date(2026, 12, 31), 1) == "2027-01"
    assert month_end("2028-02") == date(2028, 2, 29)


def test_earnings_go_into_expiry_buckets_by_the_program_time_zone():
    rules = RULES.model_copy(update={"expiry_months": 2})
    d = draft(rules=rules)
    earn(d, 10, at=datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc))  # 1 Nov in Shanghai
    earn(d, 5, at=datetime(2026, 10, 31, 15, 0, tzinfo=timezone.utc))  # still 31 Oct in Shanghai
    assert d.balance.buckets == {"2027-01": 10, "2026-12": 5}


def test_spending_takes_the_soonest_expiring_points_first():
    d = draft(PointsBalance(member_id="m", available=15, buckets={"2027-01": 10, "2026-12": 5}))
    d.adjust(-7, reference=Reference(kind="adjustment", id="A"), reason="fix", client_id="bo", store_id=None)
    assert d.balance.buckets == {"2027-01": 8}


def test_buckets_whose_month_ended_expire_on_the_next_write_with_one_entry():
    balance = PointsBalance(member_id="m", available=18, buckets={"2026-09": 3, "2026-10": 5, "2027-01": 10},
                            ledger_seq=4)
    d = draft(balance)
    assert d.balance.buckets == {"2027-01": 10}
    assert d.balance.available == 10
    [expiry] = d.entries
    assert (expiry.type, expiry.points, expiry.seq, expiry.reference.id) == (EntryType.EXPIRY, -8, 5, "2026-10")
    assert "2026-09 to 2026-10" in expiry.reason


def test_expiring_soon_lists_buckets_due_within_90_days():
    balance = PointsBalance(member_id="m", available=35, buckets={"2026-12": 10, "2027-01": 20, "2027-02": 5})
    view = balance.view(date(2026, 11, 18))  # 90 days ahead is 16 Feb 2027: February's points are not due yet
    assert view["expiring_soon"] == [{"expires_on": "2026-12-31", "points": 10},
                                     {"expires_on": "2027-01-31", "points": 20}]


# -- time rules -----------------------------------------------------------------------------------------
def test_late_purchases_are_accepted_within_the_window_and_refused_after():
    check_occurred_at(NOW - timedelta(days=7), NOW, RULES)
    with pytest.raises(SubmittedTooLate) as error:
        check_occurred_at(NOW - timedelta(days=7, seconds=1), NOW, RULES)
    assert error.value.field == "occurred_at"


def test_purchases_in_the_future_beyond_clock_skew_are_refused():
    check_occurred_at(NOW + timedelta(minutes=5), NOW, RULES)
    with pytest.raises(OccurredInFuture):
        check_occurred_at(NOW + timedelta(minutes=6), NOW, RULES)
