"""KPIs against the local run: a purchase and a return reach the KPI report through the relay, the bus's
rule, the queue and the consumer, within seconds; the reconciliation runs on demand and finds the books
clean."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.local_run import wait_for

pytestmark = pytest.mark.e2e


def test_a_purchase_and_its_return_reach_the_kpis_and_the_books_hold(platform, phone):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    query = f"/v1/reports/kpis?from={today}&to={today}&group_by=store&store_id=HZ-XIHU"

    def xihu():
        answer = platform.call("GET", query, client="backoffice")
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        return rows[0]["figures"] if rows else {"orders": 0, "spend": "0.00", "new_members": 0}

    before = xihu()
    enrolled = platform.call("POST", "/v1/members", client="pos-hz-xihu", json={
        "phone": phone, "store_id": "HZ-XIHU", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert enrolled.status_code == 201, enrolled.text
    member_id = enrolled.json()["member_id"]
    order = f"E2E-KPI-{member_id[-8:]}"
    at = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    bought = platform.call("POST", f"/v1/members/{member_id}/purchases", client="pos-hz-xihu", json={
        "order_id": order, "store_id": "HZ-XIHU", "channel": "pos", "occurred_at": at, "currency": "CNY",
        "payment_method": "alipay", "total": "398.00",
        "lines": [{"sku": "LONGJING-250G", "category": "tea", "quantity": 2, "unit_price": "199.00",
                   "amount": "398.00", "new_product": True}]})
    assert bought.status_code == 201, bought.text
    returned = platform.call("POST", f"/v1/members/{member_id}/returns", client="pos-hz-xihu", json={
        "return_id": f"R-{order}", "order_id": order, "store_id": "HZ-XIHU", "returning_store_id": "HZ-XIHU",
        "occurred_at": datetime.now(timezone.utc).isoformat(), "lines": [{"sku": "LONGJING-250G", "quantity": 1}]})
    assert returned.status_code == 201, returned.text

    def counted():
        now = xihu()
        return now if (now["orders"] == before["orders"] + 1 and now.get("returns", 0) == before.get("returns", 0) + 1
                       and now["new_members"] == before["new_members"] + 1) else None

    after = wait_for(counted)
    assert Decimal(after["spend"]) - Decimal(before["spend"]) == Decimal("199.00")  # 398.00 less the one returned

    run = platform.call("POST", "/_local/invoke/kpi_reconciliation", client=None, json={"date": today}).json()
    assert "error" not in run, run
    result = run.get("result", run)
    assert result["members_checked"] >= 1
    assert [d for d in result["drifts"] if d["subject"] == member_id] == []
    stored = platform.call("GET", f"/v1/reports/reconciliation?date={today}", client="backoffice")
    assert stored.status_code == 200 and stored.json()["day"] == today
