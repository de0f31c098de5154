"""POST /v1/members/{id}/returns through the handler, on moto: exact claw-back, over-returns, debt."""
from __future__ import annotations

from decimal import Decimal

import points
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.events import PointsReturned, PurchaseRecorded
from loyalty.points.requests import ReturnRequest
from tests.component.points.conftest import ago, call, line, purchase_body
from tests.conftest import BACKOFFICE, POS_HZ, POS_SH

RETURNS = "/v1/members/{member_id}/returns"


def buy(ctx, member_id, order_id, *lines, clock, client=POS_SH, store_id="SH-JINGAN") -> dict:
    status, result = call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member_id,
                          body=purchase_body(order_id, *lines, store_id=store_id, occurred_at=ago(clock, hours=2)),
                          client=client)
    assert status == 201, result
    return result


def give_back(ctx, member_id, return_id, order_id, *lines, clock, whole_order=False, returning_store_id="SH-JINGAN",
              store_id="SH-JINGAN", client=POS_SH):
    body = {"return_id": return_id, "order_id": order_id, "store_id": store_id,
            "returning_store_id": returning_store_id, "occurred_at": ago(clock, minutes=5).isoformat()}
    if whole_order:
        body["whole_order"] = True
    else:
        body["lines"] = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
    return call(points, ctx, "POST", RETURNS, member_id=member_id, body=body, client=client)


def balance(services, member_id) -> dict:
    return services.points_queries.balance(member_id, ClientIdentity.from_context(POS_SH)).body()


def entries(services, member_id) -> list[dict]:
    return services.points_queries.ledger(member_id, ClientIdentity.from_context(POS_SH), limit=100).body()["items"]


def test_partial_returns_claw_back_exactly_what_was_earned(services, member, ctx, clock, publisher):
    earned = buy(ctx, member, "O-1", line(sku="TEE", quantity=3, unit_price="33.33"),
                 line(sku="CAP", quantity=1, unit_price="10.51"), clock=clock)
    assert earned["points"] == 110  # 110.50 rounded down once for the purchase
    assert [x["points"] for x in earned["lines"]] == [100, 10]
    clawed = []
    for index, (sku, quantity) in enumerate([("TEE", 1), ("CAP", 1), ("TEE", 1), ("TEE", 1)]):
        status, result = give_back(ctx, member, f"R-{index}", "O-1", (sku, quantity), clock=clock)
        assert status == 201, result
        clawed.append(result["points"])
    assert clawed == [33, 10, 33, 34]  # the last TEE takes the remainder
    assert sum(clawed) == earned["points"]
    assert balance(services, member)["available"] == 0
    assert publisher.types().count("PointsReturned.v1") == 4


def test_returning_more_than_was_bought_is_refused_even_across_returns(services, member, ctx, clock):
    buy(ctx, member, "O-2", line(sku="TEE", quantity=2), clock=clock)
    assert give_back(ctx, member, "R-1", "O-2", ("TEE", 1), clock=clock)[0] == 201
    status, result = give_back(ctx, member, "R-2", "O-2", ("TEE", 2), clock=clock)
    assert status == 422
    assert result["error"]["code"] == "RETURN_EXCEEDS_PURCHASE"
    assert give_back(ctx, member, "R-3", "O-2", ("TEE", 1), clock=clock)[0] == 201
    assert give_back(ctx, member, "R-4", "O-2", clock=clock, whole_order=True)[0] == 422
    assert balance(services, member)["available"] == 0


def test_an_over_return_racing_another_return_is_refused_by_the_purchase_condition(services, member, clock):
    """Two returns of the last unit read the purchase at the same time; the write of the second must fail."""
    earned = buy_direct(services, member, clock)
    service = services.points_service
    repo = services.points_repository
    client = ClientIdentity.from_context(POS_SH)
    first = _return_request("R-A", clock)
    second = _return_request("R-B", clock)
    real_load = repo.load
    raced = []

    def load_then_let_the_other_return_commit(member_id, **kwargs):
        snapshot = real_load(member_id, **kwargs)
        if not raced:
            raced.append(None)
            raced[0] = service.record_return(member, second, client)
        return snapshot

    repo.load = load_then_let_the_other_return_commit
    try:
        status = service.record_return(member, first, client)
    except Exception as error:  # noqa: BLE001 - the re-read must refuse it as an over-return
        status = error
    finally:
        repo.load = real_load
    assert raced[0].created
    assert getattr(status, "code", None) == "RETURN_EXCEEDS_PURCHASE"
    assert balance(services, member)["available"] == 0 and earned == 100


def buy_direct(services, member_id, clock) -> int:
    from loyalty.points.requests import PurchaseRequest

    request = PurchaseRequest.model_validate(purchase_body("O-RACE", line(sku="TEE"), occurred_at=ago(clock, hours=2)))
    return services.points_service.earn_purchase(member_id, request, ClientIdentity.from_context(POS_SH)).result.body()["points"]


def _return_request(return_id, clock) -> ReturnRequest:
    return ReturnRequest.model_validate({
        "return_id": return_id, "order_id": "O-RACE", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": ago(clock, minutes=1).isoformat(), "lines": [{"sku": "TEE", "quantity": 1}]})


def test_a_return_replay_gives_the_original_result_and_a_changed_one_409(services, member, ctx, clock):
    buy(ctx, member, "O-3", line(sku="TEE", quantity=2), clock=clock)
    first = give_back(ctx, member, "R-1", "O-3", ("TEE", 1), clock=clock)
    again = give_back(ctx, member, "R-1", "O-3", ("TEE", 1), clock=clock)
    changed = give_back(ctx, member, "R-1", "O-3", ("TEE", 2), clock=clock)
    assert (first[0], again[0], changed[0]) == (201, 200, 409)
    assert changed[1]["error"]["field"] == "return_id"
    assert again[1] == first[1]
    assert balance(services, member)["available"] == 100


def test_goods_can_come_back_to_another_store_by_that_store(services, member, ctx, clock):
    buy(ctx, member, "O-4", line(sku="TEE"), clock=clock)
    status, _ = give_back(ctx, member, "R-1", "O-4", ("TEE", 1), returning_store_id="HZ-XIHU", clock=clock, client=POS_HZ)
    assert status == 201
    status, result = give_back(ctx, member, "R-2", "O-4", ("TEE", 1), returning_store_id="HZ-XIHU", clock=clock,
                               client=POS_SH)
    assert status == 403 and result["error"]["field"] == "returning_store_id"


def test_a_return_of_an_unknown_purchase_is_a_404(services, member, ctx, clock):
    status, result = give_back(ctx, member, "R-1", "NOPE", ("TEE", 1), clock=clock)
    assert status == 404 and result["error"]["code"] == "PURCHASE_NOT_FOUND"


def test_a_claw_back_the_balance_cannot_cover_becomes_debt_then_later_earning_repays_it(services, member, ctx, clock):
    buy(ctx, member, "O-5", line(sku="TEE"), clock=clock)  # 100 points
    status, _ = call(points, ctx, "POST", "/v1/members/{member_id}/adjustments", member_id=member, client=BACKOFFICE,
                     body={"adjustment_id": "ADJ-1", "points": -80, "reason": "redeemed at the counter"})
    assert status == 201
    status, result = give_back(ctx, member, "R-1", "O-5", clock=clock, whole_order=True)
    assert status == 201
    assert (result["points"], result["from_available"], result["debt_added"]) == (100, 20, 80)
    current = balance(services, member)
    assert (current["available"], current["debt"]) == (0, 80)

    earned = buy(ctx, member, "O-6", line(sku="CAP", unit_price="50.00"), clock=clock)
    assert earned["debt_repaid"] == 50 and earned["balance"] == {"available": 0, "pending": 0, "debt": 30, "reserved": 0}
    earned = buy(ctx, member, "O-7", line(sku="CAP", unit_price="50.00"), clock=clock)
    assert earned["debt_repaid"] == 30 and earned["balance"] == {"available": 20, "pending": 0, "debt": 0, "reserved": 0}

    ledger = entries(services, member)
    assert [e["type"] for e in reversed(ledger)] == [
        "earn", "adjustment", "return", "earn", "debt_repayment", "earn", "debt_repayment"]
    return_entry = next(e for e in ledger if e["type"] == "return")
    assert (return_entry["points"], return_entry["debt_change"], return_entry["debt_after"]) == (-20, 80, 80)
    assert sum(e["available_change"] for e in ledger) == 20
    assert sum(e["debt_change"] for e in ledger) == 0


def test_negative_balance_policy_records_the_shortfall_on_the_balance(services, member, ctx, clock):
    from tests.component.points.conftest import set_rules

    set_rules(services, debt_policy="negative_balance")
    buy(ctx, member, "O-8", line(sku="TEE"), clock=clock)
    call(points, ctx, "POST", "/v1/members/{member_id}/adjustments", member_id=member, client=BACKOFFICE,
         body={"adjustment_id": "ADJ-2", "points": -80, "reason": "redeemed"})
    status, result = give_back(ctx, member, "R-1", "O-8", clock=clock, whole_order=True)
    assert status == 201 and result["balance"] == {"available": -80, "pending": 0, "debt": 0, "reserved": 0}


def test_a_whole_order_return_of_a_large_basket_claws_back_everything(services, member, ctx, clock):
    lines = [line(sku=f"SKU-{i:03d}", quantity=2, unit_price="3.33") for i in range(150)]  # beyond LINE_GUARDS
    earned = buy(ctx, member, "O-BIG", *lines, clock=clock)
    assert earned["points"] == 999  # 150 × 6.66 = 999.00
    status, result = give_back(ctx, member, "R-BIG", "O-BIG", clock=clock, whole_order=True)
    assert status == 201 and result["points"] == 999
    assert give_back(ctx, member, "R-BIG-2", "O-BIG", ("SKU-000", 1), clock=clock)[0] == 422


def test_a_time_with_no_utc_form_is_a_400_naming_occurred_at_and_records_nothing(services, member, ctx, clock):
    buy(ctx, member, "O-9", line(sku="TEE"), clock=clock)
    body = {"return_id": "R-1", "order_id": "O-9", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
            "occurred_at": "0001-01-01T00:00:00+08:00", "whole_order": True}
    status, result = call(points, ctx, "POST", RETURNS, member_id=member, body=body)
    assert (status, result["error"]["field"]) == (400, "occurred_at")
    assert [e["type"] for e in entries(services, member)] == ["earn"]


def test_a_return_dated_before_its_purchase_is_refused_and_records_nothing(services, member, ctx, clock):
    buy(ctx, member, "O-EARLY", line("SKU-A", quantity=2, unit_price="50.00"), clock=clock)
    before = balance(services, member)
    status, body = call(points, ctx, "POST", RETURNS, member_id=member, body={
        "return_id": "R-EARLY", "order_id": "O-EARLY", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": ago(clock, hours=3).isoformat(), "whole_order": True})
    assert status == 422, body
    assert body["error"]["code"] == "RETURN_BEFORE_PURCHASE"
    assert body["error"]["field"] == "occurred_at"
    assert balance(services, member) == before


def test_a_return_reads_three_keys_and_writes_three_items(services, member, clock, warm_requests):
    """The return's claim rides in the purchase record it updates; its event on its ledger entry."""
    buy_direct(services, member, clock)
    warm_requests.clear()
    request = _return_request("R-ITEMS", clock)
    first = services.points_service.record_return(member, request, ClientIdentity.from_context(POS_SH))
    (_, read), (_, write) = warm_requests[:2]
    [keys] = [table["Keys"] for table in read["RequestItems"].values()]
    assert len(keys) == 3
    assert len(write["TransactItems"]) == 3
    [update] = [item["Update"] for item in write["TransactItems"] if "Update" in item]
    assert "attribute_not_exists(#returns.#claim)" in update["ConditionExpression"]
    again = services.points_service.record_return(member, request, ClientIdentity.from_context(POS_SH))
    assert first.created and not again.created and again.result == first.result


def test_purchases_and_returns_publish_their_money_side_for_reporting(services, member, ctx, clock, publisher):
    """PurchaseRecorded.v1 carries spend by category with the discount and new-product figures; a return's
    PointsReturned.v1 says what the returned units had cost, so reports net spend without reading orders."""
    new_serum = {**line(sku="SERUM", category="beauty", unit_price="320.00", amount="288.00", discounted=True),
                 "new_product": True}
    buy(ctx, member, "O-MIX", line(sku="TEE", quantity=3, unit_price="33.33"), new_serum, clock=clock)
    buy(ctx, member, "O-NEXT", line(sku="CAP", unit_price="10.00"), clock=clock)
    recorded = [PurchaseRecorded.model_validate(e.envelope()) for e in publisher.events
                if e.detail_type == "PurchaseRecorded.v1"]
    first = next(e for e in recorded if e.order_id == "O-MIX")
    assert (first.total, first.list_total, first.discounted_total, first.new_product_total) == (
        Decimal("387.99"), Decimal("419.99"), Decimal("288.00"), Decimal("288.00"))
    assert first.categories == {"apparel": Decimal("99.99"), "beauty": Decimal("288.00")}
    assert (first.items, first.channel, first.store_id, first.first_purchase) == (4, "pos", "SH-JINGAN", True)
    assert next(e for e in recorded if e.order_id == "O-NEXT").first_purchase is False

    assert give_back(ctx, member, "R-TEE", "O-MIX", ("TEE", 2), clock=clock)[0] == 201
    assert give_back(ctx, member, "R-REST", "O-MIX", ("TEE", 1), ("SERUM", 1), clock=clock)[0] == 201
    returned = {e.detail["return_id"]: PointsReturned.model_validate(e.envelope()) for e in publisher.events
                if e.detail_type == "PointsReturned.v1"}
    assert returned["R-TEE"].refund_total == Decimal("66.66")
    assert returned["R-REST"].categories == {"apparel": Decimal("33.33"), "beauty": Decimal("288.00")}
    assert returned["R-TEE"].refund_total + returned["R-REST"].refund_total == first.total  # nothing left over
    assert returned["R-REST"].purchased_at == first.purchased_at and returned["R-REST"].channel == "pos"
