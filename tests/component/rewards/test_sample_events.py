"""The sample events under events/redemption, events/points_holds and the reward samples under
events/program run through their handlers as the local run would fire them: the back office puts a
voucher reward in the catalogue, the sample member (given 1,000 points first) redeems it, uses and
releases the voucher, cancels the redemption, then pays part of orders with points."""
from __future__ import annotations

import json
from pathlib import Path

import points_holds
import program
import redemption
from loyalty.rewards.dynamo import DynamoRewardRepository
from loyalty.rewards.service import Redemptions
from tests.component.points.conftest import enroll
from tests.component.rewards.conftest import give_points

EVENTS = Path(__file__).parents[3] / "events"
SAMPLE_MEMBER = "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E"
SAMPLE_VOUCHER = "K7QM-4XH2-9PTW"  # the code use-voucher and release-voucher name
VOID_PAYMENT = "SH-JINGAN-PAY-20261118-0053"  # reserved first (reserve-points with this id), then voided

# in order, each with its expected status and error code
EXPECTED = [
    (program, "program/create-reward", 201, None),
    (program, "program/replace-reward", 200, None),
    (redemption, "redemption/list-member-rewards", 200, None),
    (redemption, "redemption/redeem-voucher", 201, None),
    (redemption, "redemption/redeem-insufficient-points", 409, "INSUFFICIENT_POINTS"),
    (redemption, "redemption/list-vouchers", 200, None),
    (redemption, "redemption/use-voucher", 201, None),
    (redemption, "redemption/release-voucher", 200, None),
    (redemption, "redemption/cancel-redemption", 200, None),
    (redemption, "redemption/reserve-points", 201, None),
    (redemption, "redemption/capture-points", 200, None),
    (redemption, "redemption/void-points", 200, None),
]
SCHEDULED = ("points_holds/scheduled",)
# the files of events/program this test covers (tests/component/points/test_sample_events.py has the rest)
PROGRAM_SAMPLES = {name for _module, name, _status, _code in EXPECTED if name.startswith("program/")}


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def reservation(payment_id: str, order_id: str) -> dict:
    """reserve-points.json for another payment of another order."""
    event = load("redemption/reserve-points")
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "payment_id": payment_id, "order_id": order_id})
    return event


def answer(response: dict) -> dict:
    return json.loads(response["body"]) if response.get("body") else None


def test_every_sample_event_gets_its_expected_answer(services, ctx, clock, chosen_ids, publisher):
    chosen_ids.member_id = SAMPLE_MEMBER
    assert enroll(services) == SAMPLE_MEMBER
    chosen_ids.member_id = None
    give_points(services, SAMPLE_MEMBER, 1000)
    services.__dict__["redemptions"] = Redemptions(  # the voucher code the samples name
        DynamoRewardRepository(services.table), services.points_spending, services.cached_stores, services.clock,
        new_code=lambda: SAMPLE_VOUCHER)

    answers = {}
    for module, name, status, code in EXPECTED:
        if name == "redemption/void-points":
            reserved = redemption.handler(reservation(VOID_PAYMENT, "SH-JINGAN-20261118-0053"), ctx)
            assert reserved["statusCode"] == 201, reserved["body"]
        event = load(name)
        assert event["requestContext"]["authorizer"]["client_id"]  # as the authorizer hands it over
        response = module.handler(event, ctx)
        assert response["statusCode"] == status, (name, response["body"])
        body = answer(response)
        if code is not None:
            assert body["error"]["code"] == code, (name, body)
        answers[name] = body

    assert answers["program/replace-reward"]["version"] == 2
    assert answers["program/replace-reward"]["stock_left"] == 800
    [option] = answers["redemption/list-member-rewards"]["items"]
    assert option["redeemable"] is True and option["reward"]["reward_id"] == "coupon-20-off-100"
    redeemed = answers["redemption/redeem-voucher"]
    assert redeemed["points"] == 800 and [v["code"] for v in redeemed["vouchers"]] == [SAMPLE_VOUCHER]
    assert answers["redemption/redeem-insufficient-points"]["error"]["details"]["available"] == 200
    assert [v["code"] for v in answers["redemption/list-vouchers"]["items"]] == [SAMPLE_VOUCHER]
    assert answers["redemption/use-voucher"]["discount"] == "20.00"
    assert answers["redemption/release-voucher"]["status"] == "issued"
    cancelled = answers["redemption/cancel-redemption"]
    assert cancelled["status"] == "cancelled" and cancelled["points_returned"] == 800
    assert cancelled["balance"]["available"] == 1000
    assert answers["redemption/reserve-points"]["status"] == "reserved"
    assert answers["redemption/reserve-points"]["cash_value"] == "5"
    assert answers["redemption/capture-points"]["status"] == "captured"
    voided = answers["redemption/void-points"]
    assert voided["status"] == "voided" and voided["balance"] == {"available": 500, "pending": 0, "debt": 0,
                                                                  "reserved": 0}

    # the sweep: a reservation left alone past the program's 30 minutes goes back to the member
    left_alone = redemption.handler(reservation("SH-JINGAN-PAY-20261118-0054", "SH-JINGAN-20261118-0054"), ctx)
    assert left_alone["statusCode"] == 201, left_alone["body"]
    clock.advance(minutes=31)
    run = points_holds.handler(load("points_holds/scheduled"), ctx)
    assert run == {"released": 1, "failed": 0, "complete": True}
    assert services.points_repository.get_balance(SAMPLE_MEMBER).summary()["available"] == 500
    assert {"RewardRedeemed.v1", "VoucherUsed.v1", "RedemptionCancelled.v1", "PointsPaymentCaptured.v1",
            "PointsPaymentReleased.v1"} <= set(publisher.types())


def test_every_sample_event_file_is_exercised():
    files = {str(p.relative_to(EVENTS).with_suffix("")) for folder in ("redemption", "points_holds")
             for p in (EVENTS / folder).glob("*.json")}
    assert files == {name for _module, name, _status, _code in EXPECTED if not name.startswith("program/")} \
        | set(SCHEDULED)
    assert PROGRAM_SAMPLES <= {str(p.relative_to(EVENTS).with_suffix("")) for p in (EVENTS / "program").glob("*.json")}
