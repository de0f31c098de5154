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


def test_expiring_lists_the_next_six_month_ends_that_hold_points():
    buckets = {"2026-12": 10, "2027-01": 20, "2027-03": 5, "2027-04": 1, "2027-05": 2, "2027-06": 3, "2027-07": 4,
               "2028-11": 9}
    balance = PointsBalance(member_id="m", available=sum(buckets.values()), buckets=buckets)
    view = balance.view(date(2026, 11, 18))
    assert view["expiring"] == [
        {"month": "2026-12", "expires_on": "2026-12-31", "points": 10},
        {"month": "2027-01", "expires_on": "2027-01-31", "points": 20},
        {"month": "2027-03", "expires_on": "2027-03-31", "points": 5},
        {"month": "2027-04", "expires_on": "2027-04-30", "points": 1},
        {"month": "2027-05", "expires_on": "2027-05-31", "points": 2},
        {"month": "2027-06", "expires_on": "2027-06-30", "points": 3},
    ]
    assert "expiring_soon" not in view


def rules_of(**changes):
    from loyalty.points.program import ProgramRules

    return ProgramRules.model_validate({**RULES.model_dump(mode="json"), **changes})


def test_end_of_next_year_puts_a_whole_year_of_earnings_in_december_of_the_next():
    d = draft(rules=rules_of(expiry_policy="end_of_next_year"))
    earn(d, 10, at=datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc))  # 1 January 2026 in Shanghai
    earn(d, 5, at=datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc))
    assert d.balance.buckets == {"2027-12": 15}
    assert d.finish().expiry_check_on == date(2027, 12, 1)  # the notice, 30 days before 31 December


def test_with_never_points_go_into_no_month_and_nothing_is_scheduled():
    d = draft(rules=rules_of(expiry_policy="never"))
    earn(d, 10)
    balance = d.finish()
    assert (balance.buckets, balance.available, balance.expiry_check_on) == ({}, 10, None)


def test_the_expiry_check_is_the_soonest_notice_or_the_day_after_the_soonest_month_ends():
    balance = PointsBalance(member_id="m", available=30, buckets={"2027-01": 10, "2027-03": 20})
    assert draft(balance).finish().expiry_check_on == date(2027, 1, 1)  # January's notice: 31 Jan - 30 days
    announced = balance.model_copy(update={"expiry_noticed": ["2027-01"]})
    assert draft(announced).finish().expiry_check_on == date(2027, 2, 1)  # January expires (March's notice: 1 Mar)
    both = balance.model_copy(update={"expiry_noticed": ["2027-01", "2027-03"]})
    assert draft(both).finish().expiry_check_on == date(2027, 2, 1)
    quiet = draft(balance, rules=rules_of(expiry_notice_days=0)).finish()
    assert quiet.expiry_check_on == date(2027, 2, 1)


def test_a_notice_already_due_is_checked_tomorrow_never_in_the_past():
    balance = PointsBalance(member_id="m", available=10, buckets={"2026-12": 10})  # its notice day was 1 December
    assert draft(balance, now=datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc)).finish().expiry_check_on == \
        date(2026, 12, 21)


def test_months_within_the_notice_days_are_announced_once():
    balance = PointsBalance(member_id="m", available=35, buckets={"2026-12": 10, "2027-01": 20, "2027-02": 5})
    d = draft(balance, now=datetime(2027, 1, 2, 2, 0, tzinfo=timezone.utc))  # December expires first
    assert d.expired == {"2026-12": 10}
    assert d.announce_expiring() == {"2027-01": 20}  # 31 January is within 30 days, 28 February is not
    assert d.announce_expiring() == {}
    balance = d.finish()
    assert balance.expiry_noticed == ["2027-01"]
    assert balance.expiry_check_on == date(2027, 1, 29)  # February's notice day
    later = draft(balance, now=datetime(2027, 1, 29, 2, 0, tzinfo=timezone.utc))
    assert later.announce_expiring() == {"2027-02": 5}
    assert later.finish().expiry_noticed == ["2027-01", "2027-02"]
    after_january = draft(balance.model_copy(update={"expiry_noticed": ["2027-01", "2027-02"]}),
                          now=datetime(2027, 2, 1, 2, 0, tzinfo=timezone.utc)).finish()
    assert after_january.expiry_noticed == ["2027-02"]  # kept only until the month ends


def test_an_announced_month_spent_and_earned_again_is_not_announced_twice():
    balance = PointsBalance(member_id="m", available=10, buckets={"2027-01": 10}, expiry_noticed=["2027-01"])
    d = draft(balance, now=datetime(2027, 1, 5, 2, 0, tzinfo=timezone.utc))
    d.adjust(-10, reference=Reference(kind="adjustment", id="A"), reason="fix", client_id="bo", store_id=None)
    assert d.balance.buckets == {}
    d.balance.buckets["2027-01"] = 10  # as a cancelled redemption puts points back into their month
    assert d.announce_expiring() == {}


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


# -- spending: redemptions, reservations, captures, releases, give-backs ------------------------------
SPEND = Reference(kind="redemption", id="RD-1")


def earn_at(d: BalanceDraft, points: int, store: str, at: datetime):
    return d.credit(points, entry_type=EntryType.EARN, reference=REF, reason="purchase", occurred_at=at,
                    store_id=store)


def assert_spending_explained(balance: PointsBalance, entries) -> None:
    assert balance.available == sum(e.available_change for e in entries)
    assert balance.reserved == sum(e.reserved_change for e in entries)
    assert all(e.points == e.available_change + e.pending_change + e.reserved_change for e in entries)
    assert sum(balance.buckets.values()) == max(balance.available, 0)
    assert sum(balance.origins.values()) == max(balance.available, 0)
    assert min([0, *balance.origins.values(), *balance.buckets.values()]) == 0


def test_spending_takes_the_soonest_expiring_points_first_and_origins_in_proportion():
    d = draft()
    earn_at(d, 300, "SH-JINGAN", NOW - timedelta(days=200))  # expires in an earlier month
    earn_at(d, 100, "HZ-WESTLAKE", NOW)
    early = expiry_month((NOW - timedelta(days=200)).date(), 24)
    taken = d.spend(200, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id="HZ-WESTLAKE")
    assert taken.months == {early: 200}
    assert taken.origins == {"SH-JINGAN": 150, "HZ-WESTLAKE": 50}
    entry = d.entries[-1]
    assert entry.type == EntryType.REDEMPTION and entry.available_change == -200
    assert entry.origins == {"SH-JINGAN": -150, "HZ-WESTLAKE": -50}
    assert d.balance.origins == {"SH-JINGAN": 150, "HZ-WESTLAKE": 50}
    assert_spending_explained(d.balance, d.entries)


def test_spending_more_than_available_is_refused_with_what_is_available_and_changes_nothing():
    d = draft()
    earn(d, 80)
    before = d.balance.model_copy(deep=True)
    with pytest.raises(InsufficientPoints) as refused:
        d.spend(100, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    assert refused.value.details == {"available": 80, "needed": 100}
    assert d.balance == before and len(d.entries) == 1


def test_a_member_in_debt_cannot_spend_until_it_is_repaid():
    from loyalty.points.errors import MemberInDebt

    d = draft()
    earn(d, 50)
    claw(d, 80)
    earn(d, 100)  # repays the 30 of debt first
    assert d.balance.debt == 0 and d.balance.available == 70
    d2 = draft()
    earn(d2, 10)
    claw(d2, 40)
    with pytest.raises(MemberInDebt) as refused:
        d2.spend(1, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    assert refused.value.details["debt"] == 30


def test_a_reservation_holds_points_then_capture_pays_them_and_release_gives_them_back_exactly():
    d = draft()
    earn_at(d, 500, "SH-JINGAN", NOW)
    held = d.reserve(200, reference=Reference(kind="points_payment", id="P-1"), reason="hold", store_id="HZ-WESTLAKE")
    assert (d.balance.available, d.balance.reserved) == (300, 200)
    assert d.entries[-1].points == 0 and d.entries[-1].reserved_after == 200
    d.capture(held, reference=Reference(kind="points_payment", id="P-1"), reason="paid", store_id="HZ-WESTLAKE")
    assert (d.balance.available, d.balance.reserved) == (300, 0)
    assert d.entries[-1].points == -200 and d.entries[-1].origins == {"SH-JINGAN": -200}

    other = d.reserve(100, reference=Reference(kind="points_payment", id="P-2"), reason="hold", store_id=None)
    buckets_before_release = dict(d.balance.buckets)
    d.release(other, reference=Reference(kind="points_payment", id="P-2"), reason="void", store_id=None)
    assert (d.balance.available, d.balance.reserved) == (300, 0)
    assert sum(d.balance.buckets.values()) == sum(buckets_before_release.values()) + 100
    assert_spending_explained(d.balance, d.entries)


def test_giving_back_repays_debt_first_and_restores_months_and_stores():
    d = draft()
    earn_at(d, 100, "SH-JINGAN", NOW)
    taken = d.spend(100, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    assert d.balance.buckets == {} and d.balance.origins == {}
    made_available = d.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL, reference=SPEND, reason="cancel",
                                 store_id=None)
    assert made_available == 100 and d.balance.origins == {"SH-JINGAN": 100}
    assert sum(d.balance.buckets.values()) == 100
    assert d.entries[-1].origins == {"SH-JINGAN": 100}
    assert_spending_explained(d.balance, d.entries)


def test_points_given_back_after_their_month_ended_expire_at_once():
    d = draft()
    earn_at(d, 100, "SH-JINGAN", NOW)
    taken = d.spend(100, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    later = BalanceDraft(d.finish(), rules=RULES, now=NOW + timedelta(days=800))
    later.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL, reference=SPEND, reason="cancel", store_id=None)
    assert later.balance.available == 0 and later.entries[-1].type == EntryType.EXPIRY
    assert later.entries[-1].origins == {"SH-JINGAN": -100}


def test_balances_stored_before_origins_were_kept_count_their_points_as_the_chains():
    d = draft(PointsBalance(member_id="m", available=120, buckets={"2028-10": 120}))
    assert d.balance.origins == {"*": 120}


def test_a_release_after_a_return_made_debt_repays_the_debt_first():
    d = draft()
    earn_at(d, 100, "SH-JINGAN", NOW)
    held = d.reserve(100, reference=Reference(kind="points_payment", id="P-1"), reason="hold", store_id=None)
    claw(d, 50)  # the order the points came from is returned while they are held: nothing available to take
    assert (d.balance.available, d.balance.debt) == (0, 50)
    made_available = d.release(held, reference=Reference(kind="points_payment", id="P-1"), reason="void",
                               store_id=None)
    assert made_available == 50
    assert (d.balance.available, d.balance.debt, d.balance.reserved) == (50, 0, 0)
    assert [e.type for e in d.entries[-2:]] == [EntryType.RELEASE, EntryType.DEBT_REPAYMENT]
    assert_spending_explained(d.balance, d.entries)


def test_points_given_back_that_expire_on_the_way_repay_no_debt_they_cannot_cover():
    rules = RULES.model_copy(update={"expiry_months": 1})
    d = draft(rules=rules)
    earn_at(d, 150, "SH-JINGAN", NOW)
    taken = d.spend(150, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    claw(d, 50)
    later = BalanceDraft(d.finish(), rules=rules, now=NOW + timedelta(days=70))
    later.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL, reference=SPEND, reason="cancel", store_id=None)
    assert (later.balance.available, later.balance.debt) == (0, 50)  # all 150 expired: the debt stays
    assert [e.type for e in later.entries] == [EntryType.REDEMPTION_CANCEL, EntryType.EXPIRY]
    assert_spending_explained(later.balance, d.entries + later.entries)


@pytest.mark.parametrize("give", ["give_back", "release"])
def test_below_zero_points_coming_back_fill_the_hole_before_months_and_stores(give):
    rules = RULES.model_copy(update={"debt_policy": DebtPolicy.NEGATIVE_BALANCE})
    d = draft(rules=rules)
    earn_at(d, 100, "SH-JINGAN", NOW)
    ref = Reference(kind="points_payment", id="P-1")
    if give == "release":
        taken = d.reserve(100, reference=ref, reason="hold", store_id=None)
    else:
        taken = d.spend(100, entry_type=EntryType.REDEMPTION, reference=SPEND, reason="gift", store_id=None)
    claw(d, 50)
    assert d.balance.available == -50
    if give == "release":
        d.release(taken, reference=ref, reason="void", store_id=None)
    else:
        d.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL, reference=SPEND, reason="cancel", store_id=None)
    assert d.balance.available == 50
    assert d.balance.origins == {"SH-JINGAN": 50} and sum(d.balance.buckets.values()) == 50
    assert_spending_explained(d.balance, d.entries)
