"""The reward catalogue, redemptions and their cancellation, through the handlers over moto's table."""
from __future__ import annotations

import re


import program
import redemption
from loyalty.kernel.vouchers import VoucherGrant
from tests.component.points.conftest import enroll
from tests.component.rewards.conftest import give_points, reward_body
from tests.conftest import BACKOFFICE, POS_HZ, POS_SH, api_event, response_json

REDEEM = "/v1/members/{member_id}/redemptions"
CANCEL = "/v1/members/{member_id}/redemptions/{redemption_id}/cancel"
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def send(module, ctx, method, resource, *, params=None, body=None, client=POS_SH, query=None):
    response = module.handler(api_event(method, resource, path_params=params, body=body, client=client,
                                        query=query), ctx)
    return response["statusCode"], response_json(response)


def create_reward(ctx, reward_id: str, **changes) -> dict:
    status, body = send(program, ctx, "POST", "/v1/rewards", body=reward_body(reward_id, **changes), client=BACKOFFICE)
    assert status == 201, body
    return body


def redeem(ctx, member_id, redemption_id, reward_id, *, store_id="SH-JINGAN", quantity=1, client=POS_SH):
    return send(redemption, ctx, "POST", REDEEM, params={"member_id": member_id}, client=client,
                body={"redemption_id": redemption_id, "reward_id": reward_id, "store_id": store_id,
                      "channel": "pos", "quantity": quantity})


def points_of(services, member_id) -> dict:
    return services.points_repository.get_balance(member_id).summary()


# -- the catalogue ----------------------------------------------------------------------------------
def test_the_back_office_creates_replaces_and_reads_rewards(services, ctx):
    created = create_reward(ctx, "coupon-20", stock=50)
    assert created["version"] == 1 and created["stock_left"] == 50
    status, again = send(program, ctx, "POST", "/v1/rewards", body=reward_body("coupon-20"), client=BACKOFFICE)
    assert status == 409 and again["error"]["code"] == "REWARD_EXISTS"
    status, replaced = send(program, ctx, "PUT", "/v1/rewards/{reward_id}", params={"reward_id": "coupon-20"},
                            body=reward_body("coupon-20", stock=80, version=1), client=BACKOFFICE)
    assert status == 200 and replaced["version"] == 2 and replaced["stock_left"] == 80
    status, stale = send(program, ctx, "PUT", "/v1/rewards/{reward_id}", params={"reward_id": "coupon-20"},
                         body=reward_body("coupon-20", version=1), client=BACKOFFICE)
    assert status == 409 and stale["error"]["code"] == "REWARD_VERSION_CONFLICT"
    status, listed = send(program, ctx, "GET", "/v1/rewards")
    assert status == 200 and [r["reward_id"] for r in listed["items"]] == ["coupon-20"]
    status, missing = send(program, ctx, "GET", "/v1/rewards/{reward_id}", params={"reward_id": "nope"})
    assert status == 404 and missing["error"]["code"] == "REWARD_NOT_FOUND"


def test_a_till_cannot_change_the_catalogue_and_bad_terms_name_the_field(services, ctx):
    status, body = send(program, ctx, "POST", "/v1/rewards", body=reward_body("x"), client=POS_SH)
    assert status == 403 and body["error"]["code"] == "MISSING_SCOPE"
    bad = reward_body("x", voucher={"discount": "percent_off", "min_spend": "0"})
    status, body = send(program, ctx, "POST", "/v1/rewards", body=bad, client=BACKOFFICE)
    assert status == 400 and "voucher" in body["error"]["field"]


def test_stock_cannot_be_set_below_what_was_redeemed(services, ctx, rich_member):
    create_reward(ctx, "mug", kind="physical_gift", voucher=None, stock=5)
    assert redeem(ctx, rich_member, "r-1", "mug", quantity=3)[0] == 201
    status, body = send(program, ctx, "PUT", "/v1/rewards/{reward_id}", params={"reward_id": "mug"},
                        body=reward_body("mug", kind="physical_gift", voucher=None, stock=2, version=1),
                        client=BACKOFFICE)
    assert status == 409 and body["error"]["code"] == "STOCK_BELOW_REDEEMED"
    status, body = send(program, ctx, "PUT", "/v1/rewards/{reward_id}", params={"reward_id": "mug"},
                        body=reward_body("mug", kind="physical_gift", voucher=None, stock=10, version=1),
                        client=BACKOFFICE)
    assert status == 200 and body["stock_left"] == 7


# -- redemptions --------------------------------------------------------------------------------------
def test_a_voucher_redemption_debits_points_and_puts_a_typeable_voucher_in_the_wallet(services, ctx, rich_member,
                                                                                        publisher):
    create_reward(ctx, "coupon-20")
    status, result = redeem(ctx, rich_member, "r-1", "coupon-20")
    assert status == 201, result
    assert result["points"] == 100 and result["balance"]["available"] == 900
    [voucher] = result["vouchers"]
    assert CODE.match(voucher["code"]) and voucher["status"] == "issued"
    assert voucher["qr_payload"].endswith(voucher["code"]) and rich_member in voucher["qr_payload"]
    entries, _ = services.points_repository.ledger_page(rich_member, 1, None)
    assert entries[0].type.value == "redemption" and entries[0].available_change == -100
    assert entries[0].origins == {"SH-JINGAN": -100}
    assert "RewardRedeemed.v1" in publisher.types()
    status, wallet = send(redemption, ctx, "GET", "/v1/members/{member_id}/vouchers",
                          params={"member_id": rich_member})
    assert status == 200 and [v["code"] for v in wallet["items"]] == [voucher["code"]]


def test_a_redemption_is_idempotent_by_its_id_for_good(services, ctx, rich_member):
    create_reward(ctx, "coupon-20")
    first = redeem(ctx, rich_member, "r-1", "coupon-20")
    again = redeem(ctx, rich_member, "r-1", "coupon-20")
    assert first[0] == 201 and again == (200, first[1])
    status, body = redeem(ctx, rich_member, "r-1", "coupon-20", quantity=2)
    assert status == 409 and body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert body["error"]["field"] == "redemption_id"
    assert points_of(services, rich_member)["available"] == 900


def test_not_enough_points_is_refused_with_what_is_available_and_nothing_is_written(services, ctx):
    member_id = enroll(services)
    give_points(services, member_id, 150)
    create_reward(ctx, "coupon-20", stock=5)
    status, body = redeem(ctx, member_id, "r-1", "coupon-20", quantity=2)
    assert status == 409 and body["error"]["code"] == "INSUFFICIENT_POINTS"
    assert body["error"]["details"]["available"] == 150
    assert points_of(services, member_id)["available"] == 150
    assert services.reward_catalogue.get("coupon-20", _admin()).stock_left == 5
    assert services.redemptions._rewards.redeemed_counts(member_id) == {}


def test_out_of_stock_and_the_per_member_limit_refuse_and_write_nothing(services, ctx, rich_member):
    create_reward(ctx, "last-one", stock=1)
    create_reward(ctx, "once", per_member_limit=1)
    other = enroll(services)
    give_points(services, other, 500)
    assert redeem(ctx, other, "r-a", "last-one")[0] == 201
    status, body = redeem(ctx, rich_member, "r-b", "last-one")
    assert status == 409 and body["error"]["code"] == "REWARD_OUT_OF_STOCK"
    assert body["error"]["details"] == {"stock_left": 0}
    assert redeem(ctx, rich_member, "r-c", "once")[0] == 201
    status, body = redeem(ctx, rich_member, "r-d", "once")
    assert status == 422 and body["error"]["code"] == "REDEMPTION_LIMIT_REACHED"
    assert points_of(services, rich_member)["available"] == 900


def test_rewards_limited_by_tier_city_or_date_are_refused_elsewhere(services, ctx, rich_member):
    create_reward(ctx, "gold-only", tiers=["gold"])
    create_reward(ctx, "hangzhou", cities=["杭州"])
    create_reward(ctx, "over", valid_until="2020-01-01T00:00:00+08:00", valid_from="2019-01-01T00:00:00+08:00")
    for reward_id, reason in (("gold-only", "tier"), ("hangzhou", "store"), ("over", "ended")):
        status, body = redeem(ctx, rich_member, f"r-{reward_id}", reward_id)
        assert status == 422 and body["error"]["code"] == "REWARD_NOT_AVAILABLE"
        assert body["error"]["details"]["reasons"] == [reason]
    status, body = redeem(ctx, rich_member, "r-hz", "hangzhou", store_id="HZ-XIHU", client=POS_HZ)
    assert status == 201, body


def test_a_member_in_debt_repays_before_redeeming(services, ctx):
    from loyalty.kernel.identity import ClientIdentity
    from tests.component.points.conftest import purchase_body
    member_id = enroll(services)
    create_reward(ctx, "coupon-20", points_cost=10)
    pos = ClientIdentity.from_context(POS_SH)
    from loyalty.points.requests import PurchaseRequest, ReturnRequest
    services.points_service.earn_purchase(member_id, PurchaseRequest.model_validate(
        purchase_body("O-1", occurred_at=services.clock.now())), pos)
    assert redeem(ctx, member_id, "r-spend", "coupon-20", quantity=10)[0] == 201  # spends all 100
    services.points_service.record_return(member_id, ReturnRequest.model_validate({
        "return_id": "RT-1", "order_id": "O-1", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": services.clock.now().isoformat(), "lines": [{"sku": "SKU-1", "quantity": 1}]}), pos)
    give_points(services, member_id, 40)  # repays 40 of the 100 owed
    status, body = redeem(ctx, member_id, "r-2", "coupon-20")
    assert status == 422 and body["error"]["code"] == "MEMBER_IN_DEBT" and body["error"]["details"]["debt"] == 60


# -- cancellation -----------------------------------------------------------------------------------
def test_a_cancel_gives_points_and_stock_back_once_and_voids_the_voucher(services, ctx, rich_member, publisher):
    create_reward(ctx, "coupon-20", stock=3, per_member_limit=2)
    _, redeemed = redeem(ctx, rich_member, "r-1", "coupon-20", quantity=2)
    params = {"member_id": rich_member, "redemption_id": "r-1"}
    status, cancelled = send(redemption, ctx, "POST", CANCEL, params=params)
    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled" and cancelled["points_returned"] == 200
    assert cancelled["balance"]["available"] == 1000
    assert services.reward_catalogue.get("coupon-20", _admin()).stock_left == 3
    assert services.redemptions._rewards.redeemed_counts(rich_member) == {"coupon-20": 0}
    wallet = services.voucher_wallet.wallet(rich_member, _admin())
    assert {v.status for v in wallet.items} == {"voided"} and len(wallet.items) == 2
    status, again = send(redemption, ctx, "POST", CANCEL, params=params)
    assert status == 200 and again["status"] == "cancelled"
    assert points_of(services, rich_member)["available"] == 1000
    assert publisher.types().count("RedemptionCancelled.v1") == 1
    entries, _ = services.points_repository.ledger_page(rich_member, 1, None)
    assert entries[0].type.value == "redemption_cancel" and entries[0].origins == {"SH-JINGAN": 200}
    del redeemed


def test_a_redemption_whose_voucher_was_used_cannot_be_cancelled(services, ctx, rich_member):
    create_reward(ctx, "coupon-20")
    _, redeemed = redeem(ctx, rich_member, "r-1", "coupon-20")
    code = redeemed["vouchers"][0]["code"]
    status, used = send(redemption, ctx, "POST", "/v1/vouchers/{code}/use", params={"code": code},
                        body={"member_id": rich_member, "store_id": "SH-JINGAN", "order_id": "O-9",
                              "order_total": "150.00"})
    assert status == 201 and used["discount"] == "20.00"
    status, body = send(redemption, ctx, "POST", CANCEL, params={"member_id": rich_member, "redemption_id": "r-1"})
    assert status == 409 and body["error"]["code"] == "VOUCHER_ALREADY_USED"
    assert points_of(services, rich_member)["available"] == 900


def test_cancelling_an_unknown_redemption_is_404(services, ctx, rich_member):
    status, body = send(redemption, ctx, "POST", CANCEL, params={"member_id": rich_member, "redemption_id": "nope"})
    assert status == 404 and body["error"]["code"] == "REDEMPTION_NOT_FOUND"


# -- what a member can redeem -----------------------------------------------------------------------
def test_the_member_sees_what_they_can_redeem_and_what_is_missing(services, ctx):
    member_id = enroll(services)
    give_points(services, member_id, 150)
    create_reward(ctx, "cheap")
    create_reward(ctx, "dear", points_cost=500)
    create_reward(ctx, "hangzhou", cities=["杭州"])
    create_reward(ctx, "gone", stock=0)
    status, body = send(redemption, ctx, "GET", "/v1/members/{member_id}/rewards", params={"member_id": member_id},
                        query={"store_id": "SH-JINGAN"})
    assert status == 200 and body["available"] == 150 and body["tier"] == "base"
    by_id = {item["reward"]["reward_id"]: item for item in body["items"]}
    assert by_id["cheap"]["redeemable"] is True and by_id["cheap"]["missing"] == []
    assert [(m["reason"], m.get("points_short")) for m in by_id["dear"]["missing"]] == [("points", 350)]
    assert [m["reason"] for m in by_id["hangzhou"]["missing"]] == ["store"]
    assert [m["reason"] for m in by_id["gone"]["missing"]] == ["out_of_stock"]


# -- the issuing port other capabilities use ---------------------------------------------------------
def test_other_capabilities_issue_a_voucher_once_per_issue_key(services, rich_member, publisher):
    grant = VoucherGrant(issue_key="tier-monthly:gold:2026-12", source_kind="tier", source_id="gold",
                         title_zh="金卡月度券", title_en="Gold monthly voucher",
                         terms={"discount": "percent_off", "percent_off": 10, "valid_days": 31})
    first = services.voucher_wallet.issue(rich_member, grant)
    again = services.voucher_wallet.issue(rich_member, grant)
    assert first == again
    wallet = services.voucher_wallet.wallet(rich_member, _admin())
    assert [v.code for v in wallet.items] == [first] and wallet.items[0].source.kind == "tier"
    assert publisher.types().count("VoucherIssued.v1") == 1


def _admin():
    from loyalty.kernel.identity import ClientIdentity
    return ClientIdentity.from_context(BACKOFFICE)


