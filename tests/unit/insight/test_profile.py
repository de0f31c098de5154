"""Insight's domain with realistic histories: a weekly grocery shopper, a discount hunter, a new-product
lover, a member fading out over six months; the rule language; a profile that never grows."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.insight.profile import RECENT_PURCHASES_KEPT, Profile, apply, assess, figures
from loyalty.insight.rules import DEFAULT_TAG_RULES, RuleError, TagRule, matches, validate_condition

ZONE = ZoneInfo("Asia/Shanghai")
_ids = iter(range(1, 1_000_000))


def enrolled(day: date, *, marketing: bool = True) -> tuple:
    return ("MemberEnrolled.v1", {"event_id": f"e{next(_ids)}", "occurred_at": f"{day.isoformat()}T02:00:00+00:00",
                                  "member_id": "m", "store_id": "SH-JINGAN", "channel": "pos",
                                  "marketing_opt_in": marketing})


def bought(day: date, total: str, *, discounted: str = "0", new_product: str = "0", category: str = "grocery") -> tuple:
    return ("PurchaseRecorded.v1", {"event_id": f"e{next(_ids)}", "occurred_at": f"{day.isoformat()}T03:00:00+00:00",
                                    "purchased_at": f"{day.isoformat()}T11:00:00+08:00", "member_id": "m",
                                    "store_id": "SH-JINGAN", "channel": "pos", "total": total, "list_total": total,
                                    "discounted_total": discounted, "new_product_total": new_product, "items": 1,
                                    "categories": {category: total}, "points": 1, "first_purchase": False})


def history(events) -> Profile:
    profile = Profile(member_id="m")
    for detail_type, detail in events:
        profile = apply(profile, detail_type, detail, ZONE)
    return profile


def settle(profile: Profile, today: date) -> Profile:
    """What the adapter keeps after an assessment."""
    found = assess(profile, today, DEFAULT_TAG_RULES)
    return profile.model_copy(update={"stage": found.stage, "tags": found.tags, "churn_risk": found.churn_risk,
                                      "stage_since": today if found.stage != profile.stage else profile.stage_since})


def test_a_weekly_grocery_shopper_is_high_frequency_and_mature():
    start = date(2026, 1, 5)
    shopper = history([enrolled(start)] + [bought(start + timedelta(weeks=w), "186.50") for w in range(46)])
    today = start + timedelta(weeks=45, days=1)
    found = assess(shopper, today, DEFAULT_TAG_RULES)
    f = figures(shopper, today)
    assert f["purchases_90d"] == 13 and f["purchase_interval_days"] == Decimal("7.0") and f["frequency"] == "high"
    assert found.stage == "mature" and "frequency_high" in found.tags and "high_spender" in found.tags
    assert found.churn_risk is None
    # Silent for more than 30 days (3 x 7 is under the 30-day floor) from the last purchase, yesterday.
    assert found.next_check_on == today + timedelta(days=30)


def test_a_discount_hunter_and_a_new_product_lover_get_their_tags():
    start = date(2026, 6, 1)
    hunter = history([enrolled(start)] + [bought(start + timedelta(days=12 * n), "80.00", discounted="64.00")
                                          for n in range(6)])
    assert "discount_sensitive" in assess(hunter, date(2026, 8, 2), DEFAULT_TAG_RULES).tags
    lover = history([enrolled(start)] + [bought(start + timedelta(days=20 * n), "420.00", new_product="300.00",
                                                category="beauty") for n in range(4)])
    tags = assess(lover, date(2026, 8, 2), DEFAULT_TAG_RULES).tags
    assert "new_product_lover" in tags and "discount_sensitive" not in tags
    assert figures(lover, date(2026, 8, 2))["top_category"] == "beauty"


def test_a_member_fading_out_declines_raises_a_risk_once_then_churns_and_comes_back():
    start = date(2026, 1, 3)
    days = [start + timedelta(days=10 * n) for n in range(9)]  # every 10 days until late March
    days += [date(2026, 5, 20), date(2026, 6, 25)]  # then twice more, far apart
    member = settle(history([enrolled(start)] + [bought(d, "95.00") for d in days]), date(2026, 6, 25))
    assert member.stage == "declining" and member.churn_risk is not None  # 2 in 90 days against 9 before
    assert member.churn_risk.reasons == ["purchases_halved"]
    raised_on = member.churn_risk.raised_on
    later = settle(member, date(2026, 7, 20))
    assert later.churn_risk.raised_on == raised_on  # one episode, one risk
    found = assess(later, date(2026, 12, 22), DEFAULT_TAG_RULES)  # 180 days after 25 June
    assert found.stage == "churned" and not found.risk_raised
    gone = settle(later, date(2026, 12, 23))
    back = apply(gone, *bought(date(2027, 1, 8), "120.00"), ZONE)
    again = assess(back, date(2027, 1, 8), DEFAULT_TAG_RULES)
    assert again.stage == "won_back" and again.churn_risk is None


def test_next_check_is_the_day_silence_becomes_a_risk():
    start = date(2026, 3, 1)
    member = settle(history([enrolled(start)] + [bought(start + timedelta(days=14 * n), "60.00") for n in range(8)]),
                    start + timedelta(days=98))
    check = assess(member, start + timedelta(days=98), DEFAULT_TAG_RULES).next_check_on
    last = start + timedelta(days=98)
    assert check == last + timedelta(days=43)  # 3 x 14 days of silence, the day after
    assert assess(member, check - timedelta(days=1), DEFAULT_TAG_RULES).churn_risk is None
    assert assess(member, check, DEFAULT_TAG_RULES).risk_raised


@pytest.mark.parametrize("condition,path", [
    ({"field": "spend_365d", "op": ">=", "value": "lots"}, "when.value"),
    ({"all": [{"field": "stage", "op": "==", "value": "new"}, {"field": "colour", "op": "==", "value": "red"}]},
     "when.all[1].field"),
    ({"field": "stage", "op": ">", "value": "new"}, "when.op"),
    ({"any": []}, "when.any"),
    ({"field": "spend_365d", "op": "~", "value": "1"}, "when.op"),
    ({"exec": "__import__('os')"}, "when"),
])
def test_a_rule_outside_the_language_is_refused_naming_where(condition, path):
    with pytest.raises(RuleError) as refused:
        validate_condition(condition)
    assert refused.value.path == path
    with pytest.raises(ValueError):
        TagRule(tag="x", name_zh="x", name_en="x", when=condition)


def test_conditions_combine_and_unknown_figures_match_nothing():
    rule = {"all": [{"field": "spend_365d", "op": ">=", "value": "1000"},
                    {"not": {"field": "stage", "op": "in", "value": ["churned", "declining"]}}]}
    validate_condition(rule)
    assert matches(rule, {"spend_365d": Decimal("1200"), "stage": "mature"})
    assert not matches(rule, {"spend_365d": Decimal("1200"), "stage": "churned"})
    assert not matches(rule, {"spend_365d": None, "stage": "mature"})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 700), st.integers(1, 2000)), min_size=1, max_size=300))
def test_the_profile_stays_bounded_and_same_month_order_does_not_matter(purchases):
    start = date(2025, 1, 1)
    events = [bought(start + timedelta(days=d), f"{amount}.00", category=f"c{amount % 30}") for d, amount in purchases]
    profile = history(events)
    assert len(profile.recent) <= RECENT_PURCHASES_KEPT and len(profile.categories) <= 12
    assert len(profile.months) <= 24 + 1
    shuffled = history(sorted(events, key=lambda e: (e[1]["purchased_at"][:7], -int(e[1]["total"].split(".")[0]))))
    today = start + timedelta(days=700)
    assert figures(shuffled, today)["spend_365d"] == figures(profile, today)["spend_365d"]


def test_marketing_needs_consent_and_at_most_two_actions_in_30_days():
    from loyalty.insight.profile import LifecyclePolicy, may_market

    today = date(2026, 12, 29)
    consenting = Profile(member_id="m", marketing_consent=True)
    assert may_market(consenting, today, LifecyclePolicy())
    assert not may_market(consenting.model_copy(update={"marketing_consent": False}), today, LifecyclePolicy())
    twice = consenting.model_copy(update={"marketing_actions": [date(2026, 12, 1), date(2026, 12, 20)]})
    assert not may_market(twice, today, LifecyclePolicy())
    assert may_market(twice, date(2026, 12, 31), LifecyclePolicy())  # 1 December is more than 30 days back
