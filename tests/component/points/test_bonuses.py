"""Welcome bonus on enrollment and the referrer's bonus on a referred member's first purchase, on moto."""
from __future__ import annotations

import pytest

import points
from loyalty.kernel.identity import ClientIdentity
from loyalty.members.domain import EnrollmentRequest
from tests.component.points.conftest import ago, call, enroll, line, purchase_body, set_rules
from tests.conftest import POS_SH

POS = ClientIdentity.from_context(POS_SH)


def available(services, member_id) -> int:
    return services.points_queries.balance(member_id, POS).body()["available"]


def buy(ctx, member_id, order_id, clock) -> tuple[int, dict]:
    return call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member_id,
                body=purchase_body(order_id, line(), occurred_at=ago(clock, hours=1)))


def test_enrollment_credits_the_configured_welcome_bonus(services, clock, publisher):
    set_rules(services, welcome_bonus=100)
    member_id = enroll(services)
    assert available(services, member_id) == 100
    [entry] = services.points_queries.ledger(member_id, POS).body()["items"]
    assert (entry["type"], entry["reference"], entry["store_id"]) == (
        "welcome", {"kind": "enrollment", "id": member_id}, "SH-JINGAN")
    assert publisher.types() == ["MemberEnrolled.v1", "PointsEarned.v1"]


def test_the_welcome_bonus_is_granted_once_per_member(services, clock):
    set_rules(services, welcome_bonus=100)
    member_id = enroll(services)
    again = services.points_service.grant_welcome_bonus(member_id, "SH-XUHUI", clock.now())
    assert again.created is False
    assert available(services, member_id) == 100


def test_no_welcome_bonus_by_default(services, clock, publisher):
    member_id = enroll(services)
    assert available(services, member_id) == 0
    assert publisher.types() == ["MemberEnrolled.v1"]


def test_the_referrer_earns_once_on_the_referred_members_first_purchase(services, ctx, clock, publisher):
    set_rules(services, referral_bonus=300)
    referrer = enroll(services)
    code = services.member_service.get(referrer, POS).referral_code
    referred = enroll(services, referral_code=code)
    assert available(services, referrer) == 0

    first = buy(ctx, referred, "O-1", clock)
    assert first[1]["first_purchase"] is True
    assert available(services, referrer) == 300
    [entry] = services.points_queries.ledger(referrer, POS).body()["items"]
    assert (entry["type"], entry["reference"]) == ("referral", {"kind": "referral", "id": referred})

    buy(ctx, referred, "O-1", clock)  # a replay of the first purchase
    second = buy(ctx, referred, "O-2", clock)
    assert second[1]["first_purchase"] is False
    assert available(services, referrer) == 300
    assert [e.detail.get("kind") for e in publisher.events if e.detail_type == "PointsEarned.v1"] == [
        "purchase", "referral", "purchase"]


def test_a_lost_referral_bonus_is_completed_by_the_replay_of_the_first_purchase(services, ctx, clock):
    set_rules(services, referral_bonus=300)
    referrer = enroll(services)
    referred = enroll(services, referral_code=services.member_service.get(referrer, POS).referral_code)
    service = services.points_service

    def crash(*_args, **_kwargs):
        raise RuntimeError("the container died after the purchase was written")

    service.grant_referral_bonus = crash
    with pytest.raises(RuntimeError):
        buy(ctx, referred, "O-1", clock)
    del service.grant_referral_bonus  # back to the method
    assert available(services, referrer) == 0
    assert buy(ctx, referred, "O-1", clock)[0] == 200  # the client retries
    assert available(services, referrer) == 300


def test_a_lost_welcome_bonus_is_completed_by_the_replay_of_the_enrollment(services, clock):
    set_rules(services, welcome_bonus=100)
    request = EnrollmentRequest(phone="13700001234", store_id="SH-JINGAN", channel="pos",
                                consents={"data_processing": {"granted": True, "policy_version": "2026-01"}})
    service = services.points_service

    def crash(*_args, **_kwargs):
        raise RuntimeError("the container died after the member was written")

    service.grant_welcome_bonus = crash
    with pytest.raises(RuntimeError):
        services.member_service.enroll(request, POS, "till-7-receipt-000777")
    del service.grant_welcome_bonus  # back to the method
    replay = services.member_service.enroll(request, POS, "till-7-receipt-000777")  # the client retries
    assert replay.created is False
    assert available(services, replay.member.body()["member_id"]) == 100
    again = services.member_service.enroll(request, POS, "till-7-receipt-000777")
    assert available(services, again.member.body()["member_id"]) == 100  # still granted once


def test_a_member_without_referrer_credits_nobody(services, member, ctx, clock, publisher):
    set_rules(services, referral_bonus=300)
    buy(ctx, member, "O-1", clock)
    assert [e.detail.get("kind") for e in publisher.events if e.detail_type == "PointsEarned.v1"] == ["purchase"]
