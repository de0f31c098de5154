"""Points at the till: reserve, capture, void, and the sweep that releases what is left alone."""
from __future__ import annotations


import points
import redemption
from tests.component.points.conftest import call, enroll, purchase_body, set_rules
from tests.component.rewards.test_redemptions import points_of, send

PAY = "/v1/members/{member_id}/points-payments"
CAPTURE = "/v1/members/{member_id}/points-payments/{payment_id}/capture"
VOID = "/v1/members/{member_id}/points-payments/{payment_id}/void"


def reserve(ctx, member_id, payment_id="P-1", points=200, total="100.00", order_id="O-1"):
    return send(redemption, ctx, "POST", PAY, params={"member_id": member_id}, body={
        "payment_id": payment_id, "store_id": "SH-JINGAN", "order_id": order_id, "channel": "pos",
        "currency": "CNY", "order_total": total, "points": points})


def act(ctx, path, member_id, payment_id="P-1"):
    return send(redemption, ctx, "POST", path, params={"member_id": member_id, "payment_id": payment_id})


def test_reserved_points_leave_available_then_capture_pays_them(services, ctx, rich_member, publisher):
    status, held = reserve(ctx, rich_member)
    assert status == 201, held
    assert held["status"] == "reserved" and held["cash_value"] == "2" and held["currency"] == "CNY"
    assert held["balance"] == {"available": 800, "pending": 0, "debt": 0, "reserved": 200}
    assert reserve(ctx, rich_member) == (200, held)
    status, captured = act(ctx, CAPTURE, rich_member)
    assert status == 200 and captured["status"] == "captured"
    assert captured["balance"] == {"available": 800, "pending": 0, "debt": 0, "reserved": 0}
    assert act(ctx, CAPTURE, rich_member)[1]["status"] == "captured"
    status, body = act(ctx, VOID, rich_member)
    assert status == 409 and body["error"]["code"] == "PAYMENT_ALREADY_CAPTURED"
    entries, _ = services.points_repository.ledger_page(rich_member, 2, None)
    assert [e.type.value for e in entries] == ["capture", "reservation"]
    assert entries[0].points == -200 and entries[0].origins == {"SH-JINGAN": -200}
    assert {"PointsPaymentReserved.v1", "PointsPaymentCaptured.v1"} <= set(publisher.types())


def test_a_void_gives_the_points_back_once(services, ctx, rich_member):
    reserve(ctx, rich_member)
    status, voided = act(ctx, VOID, rich_member)
    assert status == 200 and voided["status"] == "voided" and voided["balance"]["available"] == 1000
    assert act(ctx, VOID, rich_member)[0] == 200
    assert points_of(services, rich_member)["available"] == 1000
    status, body = act(ctx, CAPTURE, rich_member)
    assert status == 409 and body["error"]["code"] == "PAYMENT_ALREADY_VOIDED"


def test_points_may_pay_only_the_programs_share_of_an_order_in_whole_cents(services, ctx, rich_member):
    status, body = reserve(ctx, rich_member, points=5001, total="100.00")
    assert status == 422 and body["error"]["code"] == "POINTS_PAYMENT_OVER_LIMIT"
    assert body["error"]["details"] == {"max_points": 5000}
    set_rules(services, points_per_currency_unit=1000)
    status, body = reserve(ctx, rich_member, payment_id="P-2", points=5)
    assert status == 422 and body["error"]["code"] == "POINTS_NOT_WHOLE_CENTS"
    assert points_of(services, rich_member) == {"available": 1000, "pending": 0, "debt": 0, "reserved": 0}


def test_more_points_than_available_are_refused(services, ctx, rich_member):
    status, body = reserve(ctx, rich_member, points=1200, total="1000.00")
    assert status == 409 and body["error"]["code"] == "INSUFFICIENT_POINTS"
    assert body["error"]["details"]["available"] == 1000


def test_the_sweep_releases_a_reservation_left_alone_and_only_that(services, ctx, rich_member, clock):
    reserve(ctx, rich_member, payment_id="P-old")
    clock.advance(minutes=20)
    reserve(ctx, rich_member, payment_id="P-new", order_id="O-2")
    clock.advance(minutes=11)  # P-old is 31 minutes old, P-new 11
    run = services.points_payments.release_expired()
    assert run == {"released": 1, "failed": 0, "complete": True}
    assert points_of(services, rich_member) == {"available": 800, "pending": 0, "debt": 0, "reserved": 200}
    assert services.points_payments.release_expired()["released"] == 0  # twice releases nothing twice
    status, body = act(ctx, CAPTURE, rich_member, "P-old")
    assert status == 409 and body["error"]["code"] == "PAYMENT_ALREADY_VOIDED"
    assert act(ctx, CAPTURE, rich_member, "P-new")[1]["status"] == "captured"
    clock.advance(hours=1)
    assert services.points_payments.release_expired()["released"] == 0


def test_a_void_after_a_return_made_debt_repays_the_debt_before_the_points_stay_available(services, ctx, clock):
    member_id = enroll(services)
    bought = purchase_body("O-earned", occurred_at=clock.now())  # 100 points
    assert call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member_id, body=bought)[0] == 201
    assert reserve(ctx, member_id, points=100, total="300.00", order_id="O-paying")[0] == 201
    status, returned = call(points, ctx, "POST", "/v1/members/{member_id}/returns", member_id=member_id, body={
        "return_id": "RT-1", "order_id": "O-earned", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": clock.now().isoformat(), "whole_order": True})
    assert status == 201, returned
    assert points_of(services, member_id) == {"available": 0, "pending": 0, "debt": 100, "reserved": 100}
    status, voided = act(ctx, VOID, member_id)
    assert status == 200 and voided["balance"] == {"available": 0, "pending": 0, "debt": 0, "reserved": 0}
    entries, _ = services.points_repository.ledger_page(member_id, 2, None)
    assert [e.type.value for e in entries] == ["debt_repayment", "release"]


def test_an_unknown_payment_is_404(services, ctx, rich_member):
    status, body = act(ctx, CAPTURE, rich_member, "nope")
    assert status == 404 and body["error"]["code"] == "POINTS_PAYMENT_NOT_FOUND"


def _purchase(ctx, member_id, clock, *, payment_id=None, order_id="O-1"):
    import points
    from tests.component.points.conftest import line, purchase_body
    body = purchase_body(order_id, line("A", quantity=2, unit_price="30.00"), line("B", unit_price="40.00"),
                         occurred_at=clock.now())
    if payment_id:
        body["points_payment_id"] = payment_id
    return send(points, ctx, "POST", "/v1/members/{member_id}/purchases", params={"member_id": member_id}, body=body)


def _return(ctx, member_id, clock, return_id, lines):
    import points
    return send(points, ctx, "POST", "/v1/members/{member_id}/returns", params={"member_id": member_id}, body={
        "return_id": return_id, "order_id": "O-1", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": clock.now().isoformat(), "lines": lines})


def test_a_return_gives_back_points_that_paid_for_the_order_in_proportion(services, ctx, rich_member, clock):
    from tests.component.rewards.conftest import give_points
    give_points(services, rich_member, 4000)
    assert reserve(ctx, rich_member, points=3000, total="100.00")[0] == 201  # 30 CNY of a 100 CNY order
    assert act(ctx, CAPTURE, rich_member)[0] == 200
    status, bought = _purchase(ctx, rich_member, clock, payment_id="P-1")
    assert status == 201, bought
    status, first = _return(ctx, rich_member, clock, "RT-1", [{"sku": "A", "quantity": 1}])  # 30 of 100 returned
    assert status == 201 and first["points_refunded"] == 900
    status, rest = _return(ctx, rich_member, clock, "RT-2", [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}])
    assert status == 201 and rest["points_refunded"] == 2100  # everything back: the rest of the 3,000
    entries, _ = services.points_repository.ledger_page(rich_member, 10, None)
    refunds = [e for e in entries if e.type.value == "payment_refund"]
    assert sorted(e.available_change for e in refunds) == [900, 2100]
    assert sum(sum(e.origins.values()) for e in refunds) == 3000


def test_a_purchase_can_name_only_a_captured_points_payment_of_its_own_order(services, ctx, rich_member, clock):
    assert reserve(ctx, rich_member, points=100)[0] == 201
    status, body = _purchase(ctx, rich_member, clock, payment_id="P-1")
    assert status == 422 and body["error"]["code"] == "POINTS_PAYMENT_NOT_CAPTURED"
    act(ctx, CAPTURE, rich_member)
    status, body = _purchase(ctx, rich_member, clock, payment_id="P-1", order_id="O-other")
    assert status == 422 and body["error"]["field"] == "points_payment_id"
    status, body = _purchase(ctx, rich_member, clock, payment_id="P-nope")
    assert status == 404 and body["error"]["code"] == "POINTS_PAYMENT_NOT_FOUND"
