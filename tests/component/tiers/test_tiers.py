"""Tiers against moto's table: upgrades inside the purchase, the multiplier of the tier held, returns that
take an upgrade back, the benefits and history endpoints, the ladder API, changes by hand, the review."""
from __future__ import annotations

from datetime import timedelta

import pytest

import tiers as tiers_handler
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import PurchaseRequest, ReturnRequest
from tests.component.points.conftest import ago, call, enroll, line, purchase_body, warm_requests  # noqa: F401
from tests.conftest import BACKOFFICE, POS_SH

MEMBER = "/v1/members/{member_id}"


@pytest.fixture
def member(services) -> str:
    return enroll(services)


def buy(services, clock, member, order_id, amount, **kw):
    request = PurchaseRequest.model_validate(
        purchase_body(order_id, line(unit_price=amount), occurred_at=ago(clock, minutes=5), **kw))
    return services.points_service.earn_purchase(member, request, ClientIdentity.from_context(POS_SH)).result


def profile_tier(services, member) -> str:
    return services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "PROFILE"})["Item"]["tier"]


def test_a_purchase_that_crosses_the_threshold_upgrades_in_its_own_transaction(services, clock, member, publisher):
    first = buy(services, clock, member, "T-1", "600.00")
    assert first.tier_change is None
    second = buy(services, clock, member, "T-2", "500.00")
    assert second.tier_change.model_dump() == {"from_tier": "base", "to_tier": "bronze", "direction": "up",
                                               "reason": "purchase"}
    assert profile_tier(services, member) == "bronze"
    changed = [e for e in publisher.events if e.detail_type == "TierChanged.v1"]
    assert [(e.detail["from_tier"], e.detail["to_tier"], e.detail["reference_id"]) for e in changed] == \
        [("base", "bronze", "SH-JINGAN#T-2")]


def test_accrual_applies_the_multiplier_of_the_tier_held_at_the_time_of_purchase(services, clock, member):
    up = buy(services, clock, member, "M-1", "3200.00")  # base (x1) when bought: upgrades to silver
    assert up.points == 3200 and up.tier_change.to_tier == "silver"
    after = buy(services, clock, member, "M-2", "100.00")  # silver: x1.5
    assert after.points == 150
    assert {"kind": "tier", "tier": "silver", "factor": "1.5", "points": 50} in \
        [m.model_dump(exclude_none=True) for m in after.breakdown.multipliers]


def test_an_ordinary_purchase_still_reads_three_keys_and_writes_three_items(services, clock, member, warm_requests):
    buy(services, clock, member, "W-1", "50.00")
    (_, read), (_, write) = warm_requests
    assert len(read["RequestItems"]["loyalty-main"]["Keys"]) == 3
    assert len(write["TransactItems"]) == 3


def test_a_purchase_that_upgrades_adds_only_the_history_the_profile_tier_and_the_event(services, clock, member,
                                                                                        warm_requests):
    buy(services, clock, member, "U-1", "1000.00")
    (_, write), = [(n, p) for n, p in warm_requests if n == "TransactWriteItems"]
    kinds = sorted(next(iter(i.values()))["Item"]["entity"] if "Put" in i else "profile update"
                   for i in write["TransactItems"])
    assert kinds == ["ledger_entry", "outbox", "points_balance", "profile update", "purchase", "tier_history"]


def test_returning_the_purchase_that_upgraded_takes_the_upgrade_back(services, clock, member):
    buy(services, clock, member, "R-1", "400.00")
    assert buy(services, clock, member, "R-2", "700.00").tier_change.to_tier == "bronze"
    request = ReturnRequest.model_validate({"return_id": "RET-1", "order_id": "R-2", "store_id": "SH-JINGAN",
                                            "returning_store_id": "SH-JINGAN", "whole_order": True,
                                            "occurred_at": ago(clock, minutes=1).isoformat()})
    back = services.points_service.record_return(member, request, ClientIdentity.from_context(POS_SH)).result
    assert back.tier_change.model_dump() == {"from_tier": "bronze", "to_tier": "base", "direction": "down",
                                             "reason": "return"}
    assert profile_tier(services, member) == "base"


def test_benefits_show_the_tier_and_what_the_next_one_still_needs(services, clock, member, ctx):
    buy(services, clock, member, "B-1", "3100.00")
    status, body = call(tiers_handler, ctx, "GET", MEMBER + "/benefits", member_id=member)
    assert status == 200
    assert (body["tier"], body["tier_name_zh"], body["multiplier"], body["discount_rate"]) == \
        ("silver", "银牌会员", "1.5", "0.15")
    assert [s["code"] for s in body["services"]] == ["gift_wrapping"]
    assert body["figures"] == {"spend": "3100.00", "visits": 1, "activity": 0}
    assert body["next_tier"]["tier"] == "gold"
    assert {c["criterion"]: c["missing"] for c in body["next_tier"]["criteria"]} == {"spend": "1900", "visits": "47"}
    assert body["monthly_voucher_issue_key"] == "tier-monthly:silver:2026-11"


def test_benefits_of_an_unknown_member_is_404(services, ctx):
    status, body = call(tiers_handler, ctx, "GET", MEMBER + "/benefits", member_id="mbr_" + "0" * 26)
    assert (status, body["error"]["code"]) == (404, "MEMBER_NOT_FOUND")


def test_the_monthly_voucher_is_issued_once_per_month(services, clock, member, ctx):
    buy(services, clock, member, "V-1", "3100.00")
    first = call(tiers_handler, ctx, "POST", MEMBER + "/benefits/monthly-voucher", member_id=member)
    again = call(tiers_handler, ctx, "POST", MEMBER + "/benefits/monthly-voucher", member_id=member)
    assert first[0] == again[0] == 200 and first[1]["code"] == again[1]["code"]
    base_member = enroll(services)
    status, body = call(tiers_handler, ctx, "POST", MEMBER + "/benefits/monthly-voucher", member_id=base_member)
    assert (status, body["error"]["code"]) == (422, "NO_MONTHLY_VOUCHER")


def born(services, member, birthday: str) -> None:
    services.table.update_item(Key={"PK": f"MEMBER#{member}", "SK": "PROFILE"}, UpdateExpression="SET birthday = :b",
                               ExpressionAttributeValues={":b": birthday})


def test_the_birthday_benefit_is_given_in_the_birthday_month_once_a_year(services, clock, member, ctx, publisher):
    buy(services, clock, member, "B-1", "5200.00")  # gold: 1,000 bonus points and a birthday voucher
    before = services.points_queries.balance(member, ClientIdentity.from_context(POS_SH)).body()["available"]
    birthday = MEMBER + "/benefits/birthday"
    status, body = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={"store_id": "SH-JINGAN"})
    assert (status, body["error"]["code"]) == (422, "NOT_BIRTHDAY_MONTH")  # no birthday on file
    born(services, member, "1990-12-07")
    status, body = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={"store_id": "SH-JINGAN"})
    assert (status, body["error"]["code"]) == (422, "NOT_BIRTHDAY_MONTH")  # it is November in Shanghai
    born(services, member, "1990-11-07")
    status, first = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={"store_id": "SH-JINGAN"})
    assert status == 200, first
    assert (first["tier"], first["year"], first["bonus_points"], first["bonus_given_now"]) == ("gold", 2026, 1000, True)
    assert first["voucher_code"]
    status, again = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={"store_id": "SH-JINGAN"})
    assert status == 200 and again["bonus_given_now"] is False and again["voucher_code"] == first["voucher_code"]
    after = services.points_queries.balance(member, ClientIdentity.from_context(POS_SH)).body()["available"]
    assert after - before == 1000
    earned = [e.detail for e in publisher.events if e.detail_type == "PointsEarned.v1" and e.detail["kind"] == "birthday"]
    assert [(e["points"], e["store_id"]) for e in earned] == [(1000, "SH-JINGAN")]
    status, body = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={"store_id": "HZ-XIHU"})
    assert (status, body["error"]["field"]) == (403, "store_id")  # the Shanghai till acts for its stores only
    status, body = call(tiers_handler, ctx, "POST", birthday, member_id=member, body={})
    assert (status, body["error"]["field"]) == (400, "store_id")


def test_the_ladder_is_validated_and_versioned(services, ctx):
    status, ladder = call(tiers_handler, ctx, "GET", "/v1/tiers/ladder", client=BACKOFFICE)
    assert status == 200 and ladder["version"] == 0
    bad = {**ladder, "tiers": [ladder["tiers"][0], ladder["tiers"][2], ladder["tiers"][1], ladder["tiers"][3]]}
    status, body = call(tiers_handler, ctx, "PUT", "/v1/tiers/ladder", body=bad, client=BACKOFFICE)
    assert status == 400 and body["error"]["field"] == "tiers"
    status, stored = call(tiers_handler, ctx, "PUT", "/v1/tiers/ladder", body={**ladder, "grace_days": 14},
                          client=BACKOFFICE)
    assert status == 200 and stored["version"] == 1 and stored["grace_days"] == 14
    status, body = call(tiers_handler, ctx, "PUT", "/v1/tiers/ladder", body=ladder, client=BACKOFFICE)
    assert (status, body["error"]["code"]) == (409, "LADDER_VERSION_CONFLICT")
    status, _ = call(tiers_handler, ctx, "PUT", "/v1/tiers/ladder", body=ladder)  # a till may not
    assert status == 403


def test_a_tier_set_by_hand_is_locked_and_in_the_history(services, clock, member, ctx, publisher):
    status, body = call(tiers_handler, ctx, "PUT", MEMBER + "/tier", member_id=member, client=BACKOFFICE,
                        body={"tier": "gold", "reason": "投诉补偿 complaint recovery", "lock_until": "2027-03-31"})
    assert status == 200 and body == {"member_id": member, "tier": "gold", "changed": True,
                                      "locked_until": "2027-03-31"}
    status, page = call(tiers_handler, ctx, "GET", MEMBER + "/tier-history", member_id=member)
    assert status == 200
    [entry] = page["items"]
    assert (entry["from_tier"], entry["to_tier"], entry["reason"], entry["client_id"]) == \
        ("base", "gold", "manual", "backoffice")
    status, body = call(tiers_handler, ctx, "PUT", MEMBER + "/tier", member_id=member, client=BACKOFFICE,
                        body={"tier": "diamond", "reason": "x"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "UNKNOWN_TIER", "tier")


def test_the_review_downgrades_due_members_one_level_and_a_second_run_changes_nothing(services, clock, member,
                                                                                      publisher):
    buy(services, clock, member, "D-1", "5000.00")  # gold, review a year from now
    untouched = enroll(services)
    buy(services, clock, untouched, "D-2", "100.00")
    clock.advance(days=335)  # the warning day: 30 days before the review
    first = services.tier_reviews.run()
    assert (first.members, first.warned) == (1, 1)
    warning = [e for e in publisher.events if e.detail_type == "TierDowngradeWarning.v1"]
    assert [(w.detail["tier"], w.detail["review_on"]) for w in warning] == [("gold", "2027-11-18")]
    clock.advance(days=30)
    run = services.tier_reviews.run()
    assert (run.members, run.downgraded) == (1, 1)
    assert profile_tier(services, member) == "silver"
    again = services.tier_reviews.run()
    assert (again.members, again.changed, again.downgraded) == (0, 0, 0)
    assert profile_tier(services, untouched) == "base"


def test_activities_and_referrals_count_towards_the_activity_score(services, clock, member):
    services.points_service.earn_activity(member, activity_id="EV-1", activity_type="event_attendance",
                                          occurred_at=ago(clock, minutes=1))
    referral_code = services.table.get_item(
        Key={"PK": f"MEMBER#{member}", "SK": "PROFILE"})["Item"]["referral_code"]
    referred = enroll(services, referral_code=referral_code)
    buy(services, clock, referred, "REF-1", "10.00")  # the first purchase pays the referrer's bonus
    benefits = services.tier_queries.benefits(member, ClientIdentity.from_context(POS_SH))
    assert benefits.figures.activity == 20 + 50  # event_attendance 20, referral 50


def test_a_review_out_of_time_is_carried_on_by_the_next_run_the_same_day(services, clock, publisher):
    """The hourly catch-up schedule fires the same review: it goes on where the first run stopped."""
    members = [enroll(services) for _ in range(3)]
    for index, member in enumerate(members):
        buy(services, clock, member, f"H-{index}", "5000.00")
    clock.advance(days=335)  # the warning day of all three
    stopped = services.tier_reviews.run(should_continue=iter([True, False, False, False]).__next__)
    assert (stopped.members, stopped.warned, stopped.complete) == (1, 1, False)
    carried = services.tier_reviews.run()
    assert (carried.members, carried.warned, carried.complete) == (2, 2, True)
    warned = {e.detail["member_id"] for e in publisher.events if e.detail_type == "TierDowngradeWarning.v1"}
    assert warned == set(members)
    assert services.tier_reviews.run().members == 0  # the hourly runs after that read nothing
