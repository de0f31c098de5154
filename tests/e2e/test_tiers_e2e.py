"""Tiers against the local run: the purchase that crosses Bronze's threshold says so and the member, the
benefits and the history show it; TierChanged.v1 reaches the bus; the review fires on demand with the
event EventBridge sends and, run twice, reads nothing the second time."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.local_run import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_an_upgrade_by_purchase_is_seen_everywhere_and_the_review_fires_on_demand(platform, phone):
    enrolled = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert enrolled.status_code == 201, enrolled.text
    member_id = enrolled.json()["member_id"]
    at = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    bought = platform.call("POST", f"/v1/members/{member_id}/purchases", json={
        "order_id": f"E2E-TIER-{member_id[-6:]}", "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": at,
        "currency": "CNY", "payment_method": "wechat_pay", "total": "1280.00",
        "lines": [{"sku": "SK-II-230", "category": "skincare", "quantity": 1, "unit_price": "1280.00",
                   "amount": "1280.00"}]})
    assert bought.status_code == 201, bought.text
    assert bought.json()["tier_change"] == {"from_tier": "base", "to_tier": "bronze", "direction": "up",
                                            "reason": "purchase"}
    assert platform.call("GET", f"/v1/members/{member_id}").json()["tier"] == "bronze"
    benefits = platform.call("GET", f"/v1/members/{member_id}/benefits").json()
    assert (benefits["tier"], benefits["discount_rate"], benefits["next_tier"]["tier"]) == ("bronze", "0.1", "silver")
    history = platform.call("GET", f"/v1/members/{member_id}/tier-history").json()["items"]
    assert [(h["from_tier"], h["to_tier"], h["reason"]) for h in history] == [("base", "bronze", "purchase")]
    wait_for(lambda: [e for e in platform.call("GET", "/_local/events", client=None).json()["items"]
                      if e.get("detail-type") == "TierChanged.v1" and e["detail"]["member_id"] == member_id])

    sample = json.loads((ROOT / "events/tier_review/scheduled.json").read_text())
    assert sample["detail-type"] == "Scheduled Event"
    fired = platform.call("POST", "/_local/schedules/TierReviewSchedule", client=None).json()
    assert "error" not in fired, fired
    assert fired["result"]["complete"] is True
    again = platform.call("POST", "/_local/schedules/TierReviewSchedule", client=None).json()
    assert (again["result"]["days"], again["result"]["members"]) == ([], 0)
