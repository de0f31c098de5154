"""Settlement against the local run: ledger entries reach the settlement counter through DynamoDB Local's
stream, as on AWS, and the report over HTTP shows what the stores owe each other."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import boto3
import pytest

from local.endpoints import read_endpoints
from loyalty.platform import environment as env
from loyalty.points.dynamo import DynamoPointsRepository, DynamoProgramRulesRepository
from loyalty.points.ledger import BalanceDraft, EntryType, Reference
from loyalty.points.ports import WritePlan

pytestmark = pytest.mark.e2e

SH, HZ = "SH-JINGAN", "HZ-XIHU"


def enroll(platform, phone: str) -> str:
    response = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": SH, "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert response.status_code == 201, response.text
    return response.json()["member_id"]


def purchase(platform, member_id: str, store_id: str, client: str, order_id: str, amount: str) -> None:
    occurred = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    response = platform.call("POST", f"/v1/members/{member_id}/purchases", client=client, json={
        "order_id": order_id, "store_id": store_id, "channel": "pos", "occurred_at": occurred, "currency": "CNY",
        "payment_method": "cash", "total": amount,
        "lines": [{"sku": "SKU-E2E", "category": "grocery", "quantity": 1, "unit_price": amount, "amount": amount}]})
    assert response.status_code == 201, response.text


def redeem_in_the_table(member_id: str, points: int, store_id: str, redemption_id: str) -> None:
    """A redemption as the redemption operation writes it: the ledger's spend, committed through the points
    repository into the local run's table (no redemption API exists yet)."""
    endpoints = read_endpoints()
    table = boto3.resource("dynamodb", endpoint_url=endpoints["AWS_ENDPOINT_URL_DYNAMODB"],
                           region_name=endpoints["AWS_DEFAULT_REGION"], aws_access_key_id="local",
                           aws_secret_access_key="local").Table(endpoints[env.TABLE_NAME])
    repo = DynamoPointsRepository(table)
    snap = repo.load(member_id)
    draft = BalanceDraft(snap.balance, rules=DynamoProgramRulesRepository(table).current(),
                         now=datetime.now(timezone.utc))
    draft.spend(points, entry_type=EntryType.REDEMPTION, reference=Reference(kind="redemption", id=redemption_id),
                reason="reward redeemed", store_id=store_id)
    repo.commit(WritePlan(balance_before=snap.balance, balance_after=draft.finish(), entries=draft.entries))


def period() -> str:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the program's default time zone
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


def figures(platform) -> dict:
    response = platform.call("GET", f"/v1/reports/settlement?{period()}", client="backoffice")
    assert response.status_code == 200, response.text
    stores = {s["store_id"]: s for s in response.json()["stores"]}
    hz_from_sh = next((p["receivable_points"] for p in stores[HZ]["positions"] if p["counterparty"] == SH), 0)
    return {"sh_issued": stores[SH]["issued"], "hz_issued": stores[HZ]["issued"], "hz_redeemed": stores[HZ]["redeemed"],
            "hz_from_sh": hz_from_sh}


def test_points_earned_in_shanghai_and_redeemed_in_hangzhou_are_owed_by_shanghai(platform, phone):
    before = figures(platform)  # the session's other tests earn at these stores too
    member_id = enroll(platform, phone)
    purchase(platform, member_id, SH, "pos-sh-jingan", f"SETTLE-SH-{phone}", "300.00")
    purchase(platform, member_id, HZ, "pos-hz-xihu", f"SETTLE-HZ-{phone}", "100.00")
    redeem_in_the_table(member_id, 200, HZ, f"SETTLE-RD-{phone}")  # 150 of Shanghai's points, 50 of Hangzhou's

    expected = {"sh_issued": before["sh_issued"] + 300, "hz_issued": before["hz_issued"] + 100,
                "hz_redeemed": before["hz_redeemed"] + 200, "hz_from_sh": before["hz_from_sh"] + 150}
    deadline = time.monotonic() + 30
    while (now := figures(platform)) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert now == expected

    one = platform.call("GET", f"/v1/reports/settlement?{period()}&store_id={HZ}", client="backoffice").json()
    [hangzhou] = one["stores"]
    [from_shanghai] = [p for p in hangzhou["positions"] if p["counterparty"] == SH]
    assert from_shanghai["net_amount"] == f"{from_shanghai['net_points'] / 100:.2f}"  # 100 points = 1 CNY


@pytest.mark.parametrize("query, status, field", [
    ("from=2026-11-18&to=2026-11-01", 400, "to"),
    ("from=2026-01-01&to=2026-12-31", 400, "to"),
    ("from=2026-02-30&to=2026-03-01", 400, "from"),
    ("to=2026-03-01", 400, "from"),
    ("from=2026-11-01&to=2026-11-30&store_id=NOWHERE", 400, "store_id"),
])
def test_bad_report_input_is_answered_400_naming_the_field(platform, query, status, field):
    response = platform.call("GET", f"/v1/reports/settlement?{query}", client="backoffice")
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


def test_a_till_may_not_read_the_settlement(platform):
    response = platform.call("GET", "/v1/reports/settlement?from=2026-11-01&to=2026-11-30")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "MISSING_SCOPE")
