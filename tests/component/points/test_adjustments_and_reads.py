"""Adjustments, GET points and the paginated ledger, through the handler on moto."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import points
from loyalty.kernel.identity import ClientIdentity
from tests.component.points.conftest import ago, call, enroll, line, purchase_body
from tests.conftest import BACKOFFICE, POS_SH

ADJUSTMENTS = "/v1/members/{member_id}/adjustments"
LEDGER = "/v1/members/{member_id}/ledger"
POINTS = "/v1/members/{member_id}/points"
UNKNOWN = "mbr_00000000000000000000000000"


def adjust(ctx, member_id, adjustment_id, amount, reason="goodwill after a late delivery", client=BACKOFFICE):
    return call(points, ctx, "POST", ADJUSTMENTS, member_id=member_id, client=client,
                body={"adjustment_id": adjustment_id, "points": amount, "reason": reason})


def test_an_adjustment_is_recorded_with_the_client_that_made_it(services, member, ctx, publisher):
    status, result = adjust(ctx, member, "ADJ-1", 50)
    assert status == 201 and result["balance"]["available"] == 50
    [entry] = call(points, ctx, "GET", LEDGER, member_id=member)[1]["items"]
    assert (entry["type"], entry["points"], entry["client_id"]) == ("adjustment", 50, "backoffice")
    assert entry["reason"] == "goodwill after a late delivery"
    [event] = [e for e in publisher.events if e.detail_type == "PointsAdjusted.v1"]
    assert event.detail == {"member_id": member, "adjustment_id": "ADJ-1", "points": 50, "client_id": "backoffice"}


def test_adjustments_need_the_adjust_scope(services, member, ctx):
    status, result = adjust(ctx, member, "ADJ-2", 50, client=POS_SH)
    assert status == 403 and result["error"]["code"] == "MISSING_SCOPE"


def test_a_negative_adjustment_cannot_take_available_below_zero(services, member, ctx):
    adjust(ctx, member, "ADJ-3", 30)
    status, result = adjust(ctx, member, "ADJ-4", -31)
    assert status == 409 and result["error"]["code"] == "INSUFFICIENT_POINTS"
    assert adjust(ctx, member, "ADJ-5", -30)[0] == 201


def test_an_adjustment_needs_a_reason_and_non_zero_points(services, member, ctx):
    assert call(points, ctx, "POST", ADJUSTMENTS, member_id=member, client=BACKOFFICE,
                body={"adjustment_id": "A", "points": 5})[0] == 400
    status, result = adjust(ctx, member, "ADJ-6", 0)
    assert status == 400 and result["error"]["field"] == "points"


def test_an_adjustment_replay_is_idempotent(services, member, ctx):
    assert [adjust(ctx, member, "ADJ-7", 10)[0], adjust(ctx, member, "ADJ-7", 10)[0],
            adjust(ctx, member, "ADJ-7", 11)[0]] == [201, 200, 409]


def test_points_of_a_member_without_points_yet_are_zero(services, member, ctx):
    status, result = call(points, ctx, "GET", POINTS, member_id=member)
    assert status == 200
    assert result == {"member_id": member, "available": 0, "pending": 0, "debt": 0, "reserved": 0, "lifetime_earned": 0,
                      "expiring": []}


def test_points_and_ledger_of_an_unknown_member_are_404(services, ctx):
    assert call(points, ctx, "GET", POINTS, member_id=UNKNOWN)[0] == 404
    assert call(points, ctx, "GET", LEDGER, member_id=UNKNOWN)[0] == 404


def test_points_show_what_expires_next_month_by_month(services, member, ctx, clock):
    from tests.component.points.conftest import set_rules

    set_rules(services, expiry_months=1)
    call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member,
         body=purchase_body("O-1", line(), occurred_at=ago(clock, hours=1)))
    clock.advance(days=20)  # 8 December: December's purchase expires at the end of January
    call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member,
         body=purchase_body("O-2", line(quantity=2), occurred_at=ago(clock, hours=1)))
    status, result = call(points, ctx, "GET", POINTS, member_id=member)
    assert status == 200
    assert result["expiring"] == [{"month": "2026-12", "expires_on": "2026-12-31", "points": 100},
                                  {"month": "2027-01", "expires_on": "2027-01-31", "points": 200}]


def test_the_balance_read_leaves_out_points_whose_month_ended_before_anything_is_written(services, member, ctx,
                                                                                          clock):
    from tests.component.points.conftest import set_rules

    set_rules(services, expiry_months=1)
    call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member,
         body=purchase_body("O-1", line(), occurred_at=ago(clock, hours=1)))  # expires at the end of December
    clock.current = datetime(2026, 12, 31, 16, 1, tzinfo=timezone.utc)  # 00:01 on 1 January in Shanghai
    result = call(points, ctx, "GET", POINTS, member_id=member)[1]
    assert (result["available"], result["expiring"]) == (0, [])
    stored = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "POINTS"})["Item"]
    assert stored["available"] == 100  # the read wrote nothing: the expiry job records it


def test_reading_points_is_one_get_item_whatever_the_history(services, member, ctx, clock):
    for index in range(5):
        adjust(ctx, member, f"A-{index}", 10)
    calls = []
    services.table.meta.client.meta.events.register("before-call.dynamodb.*",
                                                    lambda model, **_: calls.append(model.name))
    assert services.points_queries.balance(member, ClientIdentity.from_context(POS_SH)).body()["available"] == 50
    assert calls == ["GetItem"]


def test_the_ledger_pages_newest_first_with_an_opaque_cursor(services, member, ctx, clock):
    for index in range(7):
        clock.advance(minutes=1)
        adjust(ctx, member, f"ADJ-{index}", index + 1)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = call(points, ctx, "GET", LEDGER, member_id=member, query=query)
        assert status == 200
        seen += [e["reference"]["id"] for e in page["items"]]
        pages += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"ADJ-{i}" for i in reversed(range(7))]
    first = call(points, ctx, "GET", LEDGER, member_id=member, query={"limit": "1"})[1]["items"][0]
    assert set(first) >= {"entry_id", "type", "points", "reference", "reason", "balance_after",
                          "occurred_at", "recorded_at"}  # store_id only when the change happened at a store
    assert first["balance_after"] == sum(range(1, 8))


def test_a_cursor_of_another_member_or_garbage_is_a_400(services, member, ctx):
    other = enroll(services)
    adjust(ctx, other, "O-1", 5)
    adjust(ctx, other, "O-2", 5)
    foreign = call(points, ctx, "GET", LEDGER, member_id=other, query={"limit": "1"})[1]["next_cursor"]
    status, result = call(points, ctx, "GET", LEDGER, member_id=member, query={"cursor": foreign})
    assert status == 400 and result["error"]["field"] == "cursor"
    assert call(points, ctx, "GET", LEDGER, member_id=member, query={"cursor": "%%%not-base64"})[0] == 400
    made_up = base64.urlsafe_b64encode(json.dumps({"PK": "PROGRAM", "SK": "RULES"}).encode()).decode()
    assert call(points, ctx, "GET", LEDGER, member_id=member, query={"cursor": made_up})[0] == 400


def test_ledger_limit_is_bounded(services, member, ctx):
    assert call(points, ctx, "GET", LEDGER, member_id=member, query={"limit": "1000"})[0] == 400
    assert call(points, ctx, "GET", LEDGER, member_id=member, query={"limit": "0"})[0] == 400


def test_every_entry_keeps_its_own_item_and_the_balance_item_does_not_grow(services, member, ctx, clock):
    from boto3.dynamodb.conditions import Key

    for index in range(30):
        clock.advance(minutes=1)
        adjust(ctx, member, f"G-{index}", 1)
    balance_item = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "POINTS"})["Item"]
    assert len(json.dumps(balance_item, default=str)) < 1000
    entries = services.table.query(KeyConditionExpression=Key("PK").eq(f"MEMBER#{member}")
                                   & Key("SK").begins_with("LEDGER#"))["Items"]
    assert len(entries) == 30


def test_points_expire_at_the_end_of_their_month_with_a_ledger_entry(services, member, ctx, clock):
    from tests.component.points.conftest import set_rules

    set_rules(services, expiry_months=1)
    call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member,
         body=purchase_body("O-1", line(), occurred_at=ago(clock, hours=1)))  # expires at the end of December
    clock.current = clock.current.replace(year=2027, month=1, day=2)
    status, result = adjust(ctx, member, "ADJ-AFTER", 5)
    assert status == 201 and result["balance"]["available"] == 5
    newest_first = call(points, ctx, "GET", LEDGER, member_id=member)[1]["items"]
    assert [(e["type"], e["points"]) for e in newest_first] == [("adjustment", 5), ("expiry", -100), ("earn", 100)]
    assert call(points, ctx, "GET", POINTS, member_id=member)[1]["expiring"] == [
        {"month": "2027-02", "expires_on": "2027-02-28", "points": 5}]
