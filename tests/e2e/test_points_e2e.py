"""Points over HTTP against the local run (DynamoDB Local, several Lambda containers side by side)."""
from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal

import pytest

pytestmark = pytest.mark.e2e

RETRYABLE = {"CONCURRENT_UPDATE", "INTERNAL_ERROR", "THROTTLED"}


def enroll(platform, phone: str) -> str:
    response = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert response.status_code == 201, response.text
    return response.json()["member_id"]


def purchase_body(order_id: str, amount: Decimal, store_id: str = "SH-JINGAN") -> dict:
    occurred = (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat()
    return {"order_id": order_id, "store_id": store_id, "channel": "pos", "occurred_at": occurred,
            "currency": "CNY", "payment_method": "alipay", "total": str(amount),
            "lines": [{"sku": f"SKU-{order_id}", "category": "grocery", "quantity": 1, "unit_price": str(amount),
                       "amount": str(amount)}]}


def post_like_a_pos(platform, member_id: str, body: dict, client: str = "pos-sh-jingan"):
    """A POS retries what the platform says is worth retrying, with the very same body."""
    for _ in range(20):
        response = platform.call("POST", f"/v1/members/{member_id}/purchases", client=client, json=body)
        code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
        if code not in RETRYABLE:
            return response
    return response


def test_200_purchases_each_sent_three_times_at_once_count_exactly_once(platform, phone):
    members = [enroll(platform, phone[:-1] + str(d)) for d in range(4)]
    orders = []
    for i in range(200):
        amount = Decimal(7 + (i * 37) % 500) + Decimal(i % 100) / 100
        orders.append((f"E2E-{phone}-{i:04d}", members[i % 4], amount))
    body_by_order = {order_id: purchase_body(order_id, amount) for order_id, _member, amount in orders}

    results: dict[str, list] = defaultdict(list)
    lock = threading.Lock()

    def send(order):
        order_id, member_id, _amount = order
        response = post_like_a_pos(platform, member_id, body_by_order[order_id])
        with lock:
            results[order_id].append(response)

    copies = [order for order in orders for _ in range(3)]  # the three copies of an order go out together
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(send, copies))

    for order_id, responses in results.items():
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 200, 201], (order_id, statuses, [r.text for r in responses])
        assert len({r.json()["points"] for r in responses}) == 1, order_id

    # What each order earned is what its answer said: the base point a yuan, times the multiplier of the
    # tier the member held at the time (the members climb the ladder on the way), never less than the base.
    expected = defaultdict(int)
    for order_id, member_id, amount in orders:
        earned = results[order_id][0].json()["points"]
        assert earned >= int(amount.to_integral_value(rounding=ROUND_FLOOR)), order_id
        expected[member_id] += earned
    for member_id in members:
        balance = platform.call("GET", f"/v1/members/{member_id}/points", client="pos-hz-xihu").json()
        assert balance["available"] == expected[member_id]
        assert balance["lifetime_earned"] == expected[member_id]
        seen, cursor = [], None
        while True:
            query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
            page = platform.call("GET", f"/v1/members/{member_id}/ledger{query}").json()
            seen += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        references = [e["reference"]["id"] for e in seen if e["type"] == "earn"]
        assert len(references) == 50 == len(set(references))
        assert sum(e["points"] for e in seen) == expected[member_id]


def test_points_earned_in_one_store_are_visible_and_returned_in_another(platform, phone):
    member_id = enroll(platform, phone)
    body = purchase_body(f"X-{phone}", Decimal("128.80"))
    earned = platform.call("POST", f"/v1/members/{member_id}/purchases", json=body)
    assert earned.status_code == 201, earned.text
    assert earned.json()["points"] == 128
    returned = platform.call("POST", f"/v1/members/{member_id}/returns", client="pos-hz-xihu", json={
        "return_id": f"R-{phone}", "order_id": body["order_id"], "store_id": "SH-JINGAN",
        "returning_store_id": "HZ-XIHU", "occurred_at": datetime.now(timezone.utc).isoformat(), "whole_order": True})
    assert returned.status_code == 201, returned.text
    balance = platform.call("GET", f"/v1/members/{member_id}/points", client="webshop").json()
    assert balance["available"] == 0


def test_pos_may_not_post_a_purchase_for_another_store(platform, phone):
    member_id = enroll(platform, phone)
    response = platform.call("POST", f"/v1/members/{member_id}/purchases", client="pos-hz-xihu",
                             json=purchase_body(f"Y-{phone}", Decimal("10")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "STORE_NOT_ALLOWED"


def test_reviews_sent_at_once_are_counted_exactly_to_the_day_and_month_caps(platform, phone):
    """The default rules cap reviews at 3 a day and 10 a month, counted in one item per member, type
    and month. 5 reviews for each of 4 local days go out together, over several containers: each day
    earns at most 3 and the month at most 10, whatever order the transactions land in."""
    member_id = enroll(platform, phone)
    shanghai = timezone(timedelta(hours=8))
    now = datetime.now(shanghai) - timedelta(minutes=1)
    sends = [(f"REV-{phone}-{d}-{i}", now - timedelta(days=d)) for d in range(4) for i in range(5)]

    def send(review):
        activity_id, at = review
        for _ in range(20):
            response = platform.call("POST", f"/v1/members/{member_id}/activities", json={
                "activity_id": activity_id, "type": "review", "store_id": "SH-JINGAN", "occurred_at": at.isoformat()})
            code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
            if code not in RETRYABLE:
                return at.date(), response
        return at.date(), response

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, sends))

    assert {r.status_code for _, r in answers} <= {201, 422}, [r.text for _, r in answers]
    assert {r.json()["error"]["code"] for _, r in answers if r.status_code == 422} <= {"ACTIVITY_CAP_REACHED"}
    earned_by_day = defaultdict(int)
    for day, response in answers:
        earned_by_day[day] += response.status_code == 201
    by_month = defaultdict(list)
    for day in earned_by_day:
        by_month[day.strftime("%Y-%m")].append(day)
    for month, days in by_month.items():
        # Each day is full (3) unless the month filled first; the month holds exactly min(10, 3 per day).
        assert sum(earned_by_day[d] for d in days) == min(10, 3 * len(days)), (month, dict(earned_by_day))
        assert all(earned_by_day[d] <= 3 for d in days)
    balance = platform.call("GET", f"/v1/members/{member_id}/points").json()
    assert balance["available"] == 20 * sum(earned_by_day.values())
