"""POST /v1/members/{id}/purchases through the handler, on moto."""
from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal

import points
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import PurchaseRequest
from tests.component.points.conftest import ago, call, line, purchase_body, set_rules
from tests.conftest import POS_HZ, POS_SH, WEBSHOP

PURCHASES = "/v1/members/{member_id}/purchases"


def post(ctx, member_id, body, client=POS_SH):
    return call(points, ctx, "POST", PURCHASES, member_id=member_id, body=body, client=client)


def ledger(services, member_id):
    return services.points_queries.ledger(member_id, ClientIdentity.from_context(POS_SH), limit=100).body()["items"]


def test_a_purchase_earns_points_with_a_breakdown_and_the_balance_after(services, member, ctx, clock, publisher):
    body = purchase_body("ORD-1", line(quantity=2, unit_price="99.50"), line(sku="GC", category="gift_card"),
                         occurred_at=ago(clock, hours=1))
    status, result = post(ctx, member, body)
    assert status == 201
    assert result["points"] == 199
    assert result["status"] == "available"
    assert result["breakdown"]["base"] == 199 and result["breakdown"]["excluded_spend"] == "100.00"
    assert result["lines"] == [{"sku": "SKU-1", "quantity": 2, "points": 199}, {"sku": "GC", "quantity": 1, "points": 0}]
    assert result["balance"] == {"available": 199, "pending": 0, "debt": 0, "reserved": 0}
    earned = [e for e in publisher.events if e.detail_type == "PointsEarned.v1"]
    assert [e.detail["points"] for e in earned] == [199]
    assert earned[0].source == "loyalty.points" and earned[0].detail["member_id"] == member
    assert set(earned[0].detail) <= {"member_id", "kind", "reference_id", "points", "pending", "debt_repaid", "store_id"}


def test_a_replay_returns_the_original_result_and_counts_once(services, member, ctx, clock, publisher):
    body = purchase_body("ORD-2", line(), occurred_at=ago(clock, hours=1))
    first_status, first = post(ctx, member, body)
    clock.advance(minutes=3)
    replay_status, replay = post(ctx, member, body)
    assert (first_status, replay_status) == (201, 200)
    assert replay == first
    assert [e["type"] for e in ledger(services, member)] == ["earn"]
    assert publisher.types().count("PointsEarned.v1") == 1
    assert services.points_queries.balance(member, ClientIdentity.from_context(POS_SH)).body()["available"] == 100


def test_the_same_order_with_a_different_payload_is_a_409(services, member, ctx, clock):
    body = purchase_body("ORD-3", line(), occurred_at=ago(clock, hours=1))
    post(ctx, member, body)
    changed = purchase_body("ORD-3", line(unit_price="120.00"), occurred_at=ago(clock, hours=1))
    status, result = post(ctx, member, changed)
    assert status == 409
    assert result["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert result["error"]["field"] == "order_id"  # the business key the client sent, not a header it never used


def test_the_same_order_for_another_member_is_a_409(services, member, ctx, clock):
    from tests.component.points.conftest import enroll

    other = enroll(services)
    body = purchase_body("ORD-4", line(), occurred_at=ago(clock, hours=1))
    assert post(ctx, member, body)[0] == 201
    assert post(ctx, other, body)[0] == 409


def test_the_same_order_id_in_another_store_is_another_purchase(services, member, ctx, clock):
    assert post(ctx, member, purchase_body("ORD-5", occurred_at=ago(clock, hours=1)))[0] == 201
    hz = purchase_body("ORD-5", store_id="HZ-XIHU", occurred_at=ago(clock, hours=1))
    assert post(ctx, member, hz, client=POS_HZ)[0] == 201


def test_concurrent_duplicates_count_once(services, member, clock):
    """The duplicate commits between the first request's read and write: the first's claim then fails."""
    service = services.points_service
    repo = services.points_repository
    request = PurchaseRequest.model_validate(purchase_body("ORD-RACE", line(), occurred_at=ago(clock, hours=1)))
    client = ClientIdentity.from_context(POS_SH)
    real_commit = repo.commit
    raced = []

    def commit_after_a_duplicate(plan):
        if not raced:
            raced.append(None)
            raced[0] = service.earn_purchase(member, request, client)  # the duplicate runs to completion first
        return real_commit(plan)

    repo.commit = commit_after_a_duplicate
    try:
        outcome = service.earn_purchase(member, request, client)
    finally:
        repo.commit = real_commit
    assert raced[0].created is True and outcome.created is False
    assert outcome.result == raced[0].result
    assert services.points_queries.balance(member, client).available == 100
    assert len(ledger(services, member)) == 1


def test_a_pos_key_may_only_post_for_its_own_stores(services, member, ctx, clock):
    body = purchase_body("ORD-6", store_id="HZ-XIHU", occurred_at=ago(clock, hours=1))
    status, result = post(ctx, member, body, client=POS_SH)
    assert status == 403
    assert result["error"]["code"] == "STORE_NOT_ALLOWED"


def test_an_unknown_member_is_a_404(services, ctx, clock):
    status, result = post(ctx, "mbr_00000000000000000000000000", purchase_body("ORD-7", occurred_at=ago(clock, hours=1)))
    assert status == 404
    assert result["error"]["code"] == "MEMBER_NOT_FOUND"


def test_an_unknown_store_is_refused(services, member, ctx, clock):
    from tests.conftest import BACKOFFICE

    body = purchase_body("ORD-8", store_id="NOWHERE", occurred_at=ago(clock, hours=1))
    status, result = post(ctx, member, body, client=BACKOFFICE)
    assert status == 400
    assert result["error"]["code"] == "UNKNOWN_STORE"


def test_an_offline_purchase_is_accepted_within_the_window_and_dated_by_when_it_happened(services, member, ctx, clock):
    occurred = ago(clock, days=6, hours=23)
    status, result = post(ctx, member, purchase_body("ORD-9", occurred_at=occurred))
    assert status == 201
    [entry] = ledger(services, member)
    assert entry["occurred_at"] == occurred.isoformat().replace("+00:00", "Z")
    assert entry["recorded_at"] == clock.now().isoformat().replace("+00:00", "Z")


def test_a_purchase_posted_too_late_is_refused_with_a_clear_422(services, member, ctx, clock):
    status, result = post(ctx, member, purchase_body("ORD-10", occurred_at=ago(clock, days=7, minutes=1)))
    assert status == 422
    assert result["error"]["code"] == "SUBMITTED_TOO_LATE"
    assert result["error"]["field"] == "occurred_at"
    assert "7 days" in result["error"]["message"]


def test_the_late_window_is_configurable(services, member, ctx, clock):
    set_rules(services, late_purchase_days=14)
    assert post(ctx, member, purchase_body("ORD-11", occurred_at=ago(clock, days=10)))[0] == 201


def test_a_purchase_in_the_future_is_refused(services, member, ctx, clock):
    status, result = post(ctx, member, purchase_body("ORD-12", occurred_at=clock.now() + timedelta(minutes=30)))
    assert status == 422
    assert result["error"]["code"] == "OCCURRED_IN_FUTURE"


def test_amounts_in_another_currency_are_refused(services, member, ctx, clock):
    status, result = post(ctx, member, purchase_body("ORD-13", currency="USD", occurred_at=ago(clock, hours=1)))
    assert status == 400
    assert (result["error"]["code"], result["error"]["field"]) == ("UNSUPPORTED_CURRENCY", "currency")


def test_lines_that_do_not_add_up_are_a_400_naming_the_field(services, member, ctx, clock):
    body = purchase_body("ORD-14", line(), occurred_at=ago(clock, hours=1))
    body["total"] = "99.00"
    status, result = post(ctx, member, body)
    assert status == 400
    assert result["error"]["field"] == "total"


def test_tier_and_promotion_in_the_store_time_zone_apply(services, member, ctx, clock):
    set_rules(services, promotions=[{"promotion_id": "hz-18", "name": "Double on the 18th in Hangzhou",
                                     "cities": ["杭州"], "days_of_month": [18], "multiplier": "2"}])
    # clock: 18 Nov 02:00 UTC = 18 Nov 10:00 in Hangzhou; 17 Nov 16:30 UTC is already the 18th there
    on_the_18th = post(ctx, member, purchase_body("HZ-1", store_id="HZ-XIHU",
                                                  occurred_at=clock.now().replace(day=17, hour=16, minute=30)),
                       client=POS_HZ)[1]
    on_the_17th = post(ctx, member, purchase_body("HZ-2", store_id="HZ-XIHU",
                                                  occurred_at=clock.now().replace(day=17, hour=15, minute=30)),
                       client=POS_HZ)[1]
    in_shanghai = post(ctx, member, purchase_body("SH-1", occurred_at=ago(clock, hours=1)))[1]
    assert (on_the_18th["points"], on_the_17th["points"], in_shanghai["points"]) == (200, 100, 100)
    assert on_the_18th["breakdown"]["multipliers"] == [
        {"kind": "promotion", "promotion_id": "hz-18", "factor": "2", "points": 100}]


def test_a_webshop_purchase_earns_on_the_same_balance(services, member, ctx, clock):
    post(ctx, member, purchase_body("ORD-15", occurred_at=ago(clock, hours=1)))
    web = purchase_body("W-1", line(unit_price="50.00"), store_id="WEB", channel="webshop", occurred_at=ago(clock, hours=1))
    status, result = post(ctx, member, web, client=WEBSHOP)
    assert status == 201
    assert result["balance"]["available"] == 150


def test_a_purchase_is_one_read_and_one_transaction(services, member, clock):
    services.program_rules.current()  # rules are cached per container
    services.tier_ladder.current()  # and so is the tier ladder
    services.cached_stores.get_store("SH-JINGAN")  # and so are stores
    calls = []
    client = services.table.meta.client
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    request = PurchaseRequest.model_validate(purchase_body("ORD-CALLS", occurred_at=ago(clock, hours=1)))
    services.points_service.earn_purchase(member, request, ClientIdentity.from_context(POS_SH))
    assert calls == ["BatchGetItem", "TransactWriteItems"]


def test_money_is_decimal_end_to_end(services, member, ctx, clock):
    body = purchase_body("ORD-16", line(quantity=3, unit_price="0.10"), occurred_at=ago(clock, hours=1))
    assert body["total"] == "0.30"
    status, result = post(ctx, member, body)
    assert status == 201 and result["breakdown"]["eligible_spend"] == str(Decimal("0.30"))
    assert result["points"] == 0  # 0.30 points, rounded down


def test_a_retry_spelling_the_same_time_and_money_differently_is_still_a_replay(services, member, ctx, clock):
    body = purchase_body("ORD-17", line(unit_price="100.00"), occurred_at=ago(clock, hours=1))
    assert post(ctx, member, body)[0] == 201
    respelled = dict(body, occurred_at=ago(clock, hours=1).astimezone(timezone(timedelta(hours=8))).isoformat(),
                     total="100.0", lines=[dict(body["lines"][0], unit_price="100", amount="100.000")])
    assert post(ctx, member, respelled)[0] == 200


def test_a_purchase_reads_three_keys_and_writes_three_items(services, member, clock, warm_requests):
    """The purchase record is the claim and the ledger entry carries the event (decision log 16)."""
    request = PurchaseRequest.model_validate(purchase_body("ORD-ITEMS", occurred_at=ago(clock, hours=1)))
    services.points_service.earn_purchase(member, request, ClientIdentity.from_context(POS_SH))
    (_, read), (_, write) = warm_requests
    [keys] = [table["Keys"] for table in read["RequestItems"].values()]
    assert len(keys) == 3
    written = [next(iter(item.values()))["Item"] for item in write["TransactItems"]]
    assert len(written) == 3
    assert sorted(item["entity"] for item in written) == ["ledger_entry", "points_balance", "purchase"]
    [entry] = [item for item in written if item["entity"] == "ledger_entry"]
    assert entry["evt_type"] == "PointsEarned.v1"
    [record] = [item for item in written if item["entity"] == "purchase"]
    assert record["PK"] == "PURCHASE#SH-JINGAN#ORD-ITEMS" and record["request_hash"]
    assert record["response"]["balance"] and "lines" not in record["response"]  # the record holds the lines
