"""GET /v1/reports/settlement: who may read it, which stores they see, and bad input answered 400 naming the field."""
from __future__ import annotations

import pytest

from tests.component.points.conftest import set_rules
from tests.component.settlement.conftest import by_store, count, positions, report
from tests.conftest import POS_SH

DAY = {"from": "2026-11-18", "to": "2026-11-18"}
MANAGER_SH = {"client_id": "finance-sh", "kind": "backoffice", "scopes": "reports:read",
              "store_ids": "SH-JINGAN SH-XUHUI"}


@pytest.fixture
def hangzhou_spends_shanghai_points(services, ledger):
    member = ledger.member()
    ledger.purchase(member, "SH-JINGAN", "1000.00")
    ledger.redeem(member, 250, "HZ-XIHU")
    ledger.pay(member, 300, "SH-XUHUI")
    assert count(*ledger.records()) == {"batchItemFailures": []}


def test_a_chain_wide_key_sees_every_store(services, hangzhou_spends_shanghai_points):
    status, body = report(DAY)
    assert status == 200
    assert [s["store_id"] for s in body["stores"]] == ["APP", "CD-CHUNXI", "HZ-XIHU", "SH-JINGAN", "SH-XUHUI", "WEB"]
    jingan = by_store(body)["SH-JINGAN"]
    assert positions(jingan) == {"HZ-XIHU": (0, 250, -250, "-2.50"), "SH-XUHUI": (0, 300, -300, "-3.00")}
    assert (jingan["net_points"], jingan["net_amount"]) == (-550, "-5.50")
    assert body["store_id"] is None and body["from"] == body["to"] == "2026-11-18"


def test_one_store_with_its_positions(services, hangzhou_spends_shanghai_points):
    status, body = report({**DAY, "store_id": "SH-XUHUI"})
    assert status == 200
    [xuhui] = body["stores"]
    assert (xuhui["store_id"], xuhui["captured"], positions(xuhui)) == (
        "SH-XUHUI", 300, {"SH-JINGAN": (300, 0, 300, "3.00")})
    assert body["totals"]["captured"] == 300 and body["totals"]["issued"] == 0


def test_a_key_for_some_stores_sees_those_only(services, hangzhou_spends_shanghai_points):
    status, body = report(DAY, client=MANAGER_SH)
    assert status == 200
    assert [s["store_id"] for s in body["stores"]] == ["SH-JINGAN", "SH-XUHUI"]
    status, body = report({**DAY, "store_id": "HZ-XIHU"}, client=MANAGER_SH)
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "STORE_NOT_ALLOWED", "store_id")


def test_amounts_follow_the_programs_rate(services, hangzhou_spends_shanghai_points):
    set_rules(services, points_per_currency_unit=30)
    services.program_rules._loaded_at = 0.0  # the rules cache expires
    _, body = report({**DAY, "store_id": "HZ-XIHU"})
    [hangzhou] = body["stores"]
    assert positions(hangzhou) == {"SH-JINGAN": (250, 0, 250, "8.33")}
    assert body["points_per_currency_unit"] == 30


def test_days_without_counters_report_zeros(services):
    status, body = report({"from": "2026-01-01", "to": "2026-03-31"})
    assert status == 200
    assert body["totals"] == {"issued": 0, "returned": 0, "redeemed": 0, "expired": 0, "captured": 0}
    assert all(s["positions"] == [] and s["net_amount"] == "0.00" for s in body["stores"])


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-11-18", "to": "2026-11-10"}, "to"),
    ({"from": "2026-01-01", "to": "2026-12-31"}, "to"),  # more than 92 days
    ({"from": "2026-11-31", "to": "2026-12-01"}, "from"),  # no such day
    ({"from": "18/11/2026", "to": "2026-12-01"}, "from"),
    ({"from": "2026-11-01", "to": "tomorrow"}, "to"),
    ({"to": "2026-12-01"}, "from"),
    ({"from": "2026-12-01"}, "to"),
    ({"from": "2026-11-01", "to": "2026-11-30", "store_id": "BJ-NOWHERE"}, "store_id"),
    ({"from": "2026-11-01", "to": "2026-11-30", "store_id": "SH JINGAN"}, "store_id"),
    ({"from": "2026-11-01", "to": "2026-11-30", "store_id": ""}, "store_id"),
])
def test_bad_input_is_answered_400_naming_the_field(services, query, field):
    status, body = report(query)
    assert status == 400, body
    assert body["error"]["field"] == field
    assert body["error"]["code"] in {"VALIDATION_FAILED", "INVALID_INPUT", "UNKNOWN_STORE"}


def test_a_till_cannot_read_the_settlement(services):
    status, body = report(DAY, client=POS_SH)
    assert (status, body["error"]["code"]) == (403, "MISSING_SCOPE")


def test_a_stores_total_amount_is_the_sum_of_its_rounded_positions(services, hangzhou_spends_shanghai_points):
    set_rules(services, points_per_currency_unit=400)
    services.program_rules._loaded_at = 0.0
    _, body = report({**DAY, "store_id": "SH-JINGAN"})
    [jingan] = body["stores"]
    assert [p["net_amount"] for p in jingan["positions"]] == ["-0.62", "-0.75"]  # 250/400 and 300/400, half to even
    assert (jingan["net_points"], jingan["net_amount"]) == (-550, "-1.37")  # what the pairs pay: not 550/400 = 1.38
