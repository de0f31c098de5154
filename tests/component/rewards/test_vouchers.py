"""The voucher wallet at the till: use on an order exactly once, release, and the checks on the way."""
from __future__ import annotations

import redemption
from tests.component.rewards.conftest import reward_body
from tests.component.rewards.test_redemptions import create_reward, redeem, send
from tests.conftest import POS_HZ

USE = "/v1/vouchers/{code}/use"
RELEASE = "/v1/vouchers/{code}/release"


def voucher(ctx, member_id, reward_id="coupon-20", **terms) -> str:
    body = reward_body(reward_id)
    create_reward(ctx, reward_id, voucher={**body["voucher"], **terms})
    status, result = redeem(ctx, member_id, f"r-{reward_id}", reward_id)
    assert status == 201, result
    return result["vouchers"][0]["code"]


def use(ctx, code, member_id, *, order_id="O-1", total="150.00", store_id="SH-JINGAN", client=None):
    kwargs = {"client": client} if client else {}
    return send(redemption, ctx, "POST", USE, params={"code": code}, body={
        "member_id": member_id, "store_id": store_id, "order_id": order_id, "order_total": total}, **kwargs)


def test_a_voucher_is_used_once_and_the_same_order_asking_again_gets_the_same_answer(services, ctx, rich_member,
                                                                                     publisher):
    code = voucher(ctx, rich_member)
    status, first = use(ctx, code, rich_member)
    assert status == 201 and first["discount"] == "20.00" and first["voucher"]["status"] == "used"
    assert first["voucher"]["use"]["order_id"] == "O-1"
    assert use(ctx, code, rich_member) == (200, first)
    status, body = use(ctx, code, rich_member, order_id="O-2")
    assert status == 409 and body["error"]["code"] == "VOUCHER_ALREADY_USED"
    assert body["error"]["details"]["order_id"] == "O-1"
    assert publisher.types().count("VoucherUsed.v1") == 1


def test_a_released_voucher_can_be_used_on_another_order(services, ctx, rich_member):
    code = voucher(ctx, rich_member)
    assert use(ctx, code, rich_member)[0] == 201
    body = {"member_id": rich_member, "store_id": "SH-JINGAN", "order_id": "O-1"}
    status, released = send(redemption, ctx, "POST", RELEASE, params={"code": code}, body=body)
    assert status == 200 and released["status"] == "issued" and "use" not in released
    assert send(redemption, ctx, "POST", RELEASE, params={"code": code}, body=body)[0] == 200
    assert use(ctx, code, rich_member, order_id="O-2")[0] == 201
    status, other = send(redemption, ctx, "POST", RELEASE, params={"code": code}, body=body)
    assert status == 409 and other["error"]["code"] == "VOUCHER_ALREADY_USED"


def test_typed_codes_are_forgiving_about_case_and_dashes(services, ctx, rich_member):
    code = voucher(ctx, rich_member)
    typed = code.replace("-", "").lower()
    assert use(ctx, typed, rich_member)[0] == 201


def test_minimum_spend_expiry_and_store_are_checked(services, ctx, rich_member, clock):
    code = voucher(ctx, rich_member, min_spend="100.00", store_ids=["HZ-XIHU"], valid_days=7)
    status, body = use(ctx, code, rich_member, store_id="HZ-XIHU", total="99.99", client=POS_HZ)
    assert status == 422 and body["error"]["code"] == "MIN_SPEND_NOT_MET" and body["error"]["field"] == "order_total"
    status, body = use(ctx, code, rich_member)
    assert status == 422 and body["error"]["code"] == "VOUCHER_NOT_VALID_HERE"
    clock.advance(days=8)
    status, body = use(ctx, code, rich_member, store_id="HZ-XIHU", client=POS_HZ)
    assert status == 422 and body["error"]["code"] == "VOUCHER_EXPIRED"


def test_a_percent_voucher_takes_its_share_in_whole_cents(services, ctx, rich_member):
    code = voucher(ctx, rich_member, "pct-15", discount="percent_off", amount_off=None, percent_off=15,
                   min_spend="0")
    status, body = use(ctx, code, rich_member, total="33.33")
    assert status == 201 and body["discount"] == "5.00"


def test_someone_elses_voucher_is_not_found(services, ctx, rich_member):
    from tests.component.points.conftest import enroll
    code = voucher(ctx, rich_member)
    stranger = enroll(services)
    status, body = use(ctx, code, stranger)
    assert status == 404 and body["error"]["code"] == "VOUCHER_NOT_FOUND"


def test_the_wallet_filters_by_status_and_pages(services, ctx, rich_member):
    create_reward(ctx, "coupon-20")
    for n in range(3):
        assert redeem(ctx, rich_member, f"r-{n}", "coupon-20")[0] == 201
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = send(redemption, ctx, "GET", "/v1/members/{member_id}/vouchers",
                            params={"member_id": rich_member}, query=query)
        assert status == 200
        seen += [v["code"] for v in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 3
    status, used = send(redemption, ctx, "GET", "/v1/members/{member_id}/vouchers",
                        params={"member_id": rich_member}, query={"status": "used"})
    assert status == 200 and used["items"] == []
