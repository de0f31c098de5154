"""Insight against the local run: a purchase reaches the member's profile through the relay, the bus's rule,
the insight queue and its consumer within seconds; the daily check fires on demand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.local_run import wait_for

pytestmark = pytest.mark.e2e


def test_a_purchase_reaches_the_members_insight_and_the_check_runs(platform, phone):
    enrolled = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert enrolled.status_code == 201, enrolled.text
    member_id = enrolled.json()["member_id"]
    at = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    bought = platform.call("POST", f"/v1/members/{member_id}/purchases", json={
        "order_id": f"E2E-INS-{member_id[-8:]}", "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": at,
        "currency": "CNY", "payment_method": "wechat_pay", "total": "5280.00",
        "lines": [{"sku": "LAMER-60ML", "category": "beauty", "quantity": 2, "unit_price": "2640.00",
                   "amount": "5280.00", "new_product": True}]})
    assert bought.status_code == 201, bought.text

    def profile():
        answer = platform.call("GET", f"/v1/members/{member_id}/insight", client="backoffice")
        return answer.json() if answer.status_code == 200 and answer.json()["figures"]["orders_total"] == 1 else None

    seen = wait_for(profile)
    assert seen["stage"] == "new" and "high_spender" in seen["tags"] and seen["categories"] == {"beauty": "5280.00"}
    fired = platform.call("POST", "/_local/schedules/InsightCheckSchedule", client=None).json()
    assert "error" not in fired, fired
