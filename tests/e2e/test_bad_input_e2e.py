"""Bad input found by hand and by fuzzing answers a 4xx JSON error naming the field, writes nothing, and
never a 5xx: each case here once answered 500 or was accepted when it should not have been."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.e2e

CONSENTS = {"data_processing": {"granted": True, "policy_version": "2026-01"}}


def error_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.json()["error"]


@pytest.fixture(scope="module")
def member(platform):
    response = platform.call("POST", "/v1/members", json={
        "phone": "13955550000", "name": "王芳", "store_id": "SH-JINGAN", "channel": "pos", "consents": CONSENTS})
    assert response.status_code in (200, 201), response.text
    return response.json()["member_id"]


def purchase(order_id: str, **line_changes) -> dict:
    line = {"sku": "SKU-1", "category": "apparel", "quantity": 1, "unit_price": "100.00", "amount": "100.00",
            "discounted": False, **line_changes}
    return {"order_id": order_id, "store_id": "SH-JINGAN", "channel": "pos",
            "occurred_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(), "currency": "CNY",
            "lines": [line], "total": "100.00", "payment_method": "cash"}


@pytest.mark.parametrize("path", ["/v1/members", "/v1/members/lookup", "/v1/feedback"])
def test_a_body_that_is_not_utf8_is_a_400_not_a_500(platform, path):
    response = platform.call("POST", path, data=b"\xff", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response) == {"code": "MALFORMED_JSON", "message": "request body is not UTF-8 text",
                                  "field": "body"}


def test_the_scope_is_checked_before_the_body_is_read(platform):
    response = platform.call("POST", "/v1/feedback/fb-00000000/assign", data=b"\xff",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 403 and error_of(response)["code"] == "MISSING_SCOPE"
    response = platform.call("PUT", "/v1/feedback/config", json={"nonsense": True})
    assert response.status_code == 403 and error_of(response)["code"] == "MISSING_SCOPE"


def test_json_nested_a_thousand_levels_deep_is_a_400(platform):
    response = platform.call("POST", "/v1/members", data=("[" * 1000 + "]" * 1000).encode(),
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "MALFORMED_JSON" and error_of(response)["field"] == "body"


@pytest.mark.parametrize("points", [True, "10", 1.0])
def test_points_are_integers(platform, member, points):
    response = platform.call("POST", f"/v1/members/{member}/adjustments", client="backoffice",
                             json={"adjustment_id": f"adj-{type(points).__name__}", "points": points,
                                   "reason": "goodwill"})
    assert response.status_code == 400 and error_of(response)["field"] == "points"


@pytest.mark.parametrize("field,value", [
    ("unit_price", 100), ("unit_price", "1e2"), ("amount", 100.0), ("quantity", True), ("quantity", "1"),
    ("discounted", "no"),
])
def test_money_is_a_decimal_string_and_quantities_are_integers(platform, member, field, value):
    body = purchase(f"BAD-{field}-{type(value).__name__}", **{field: value})
    response = platform.call("POST", f"/v1/members/{member}/purchases", json=body)
    assert response.status_code == 400 and error_of(response)["field"] == f"lines.0.{field}"
    ledger = platform.call("GET", f"/v1/members/{member}/ledger").json()
    assert ledger["items"] == []  # nothing was written


@pytest.mark.parametrize("granted", ["yes", 1])
def test_consent_must_be_a_boolean(platform, granted):
    response = platform.call("POST", "/v1/members", json={
        "phone": "13955550001", "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": granted, "policy_version": "2026-01"}}})
    assert response.status_code == 400
    assert error_of(response)["field"] == "consents.data_processing.granted"


def test_text_with_a_nul_character_is_refused(platform):
    response = platform.call("POST", "/v1/members", json={
        "phone": "13955550002", "name": "Li\u0000Wei", "store_id": "SH-JINGAN", "channel": "pos", "consents": CONSENTS})
    assert response.status_code == 400 and error_of(response)["field"] == "name"
    lookup = platform.call("POST", "/v1/members/lookup", json={"phone": "13955550002"})
    assert lookup.status_code == 404


def test_feedback_about_a_member_that_does_not_exist_is_refused(platform):
    response = platform.call("POST", "/v1/feedback", json={
        "feedback_id": "fb-unknown-member-1", "member_id": "mbr_01JD0000000000000000000099", "store_id": "SH-JINGAN",
        "channel": "pos", "kind": "praise", "rating": 5})
    assert response.status_code == 404
    assert error_of(response) == {"code": "MEMBER_NOT_FOUND", "field": "member_id",
                                  "message": "member mbr_01JD0000000000000000000099 does not exist"}


def test_the_feedback_configuration_can_be_put_back_as_read(platform):
    current = platform.call("GET", "/v1/feedback/config", client="backoffice").json()
    stored = platform.call("PUT", "/v1/feedback/config", client="backoffice", json=current)
    assert stored.status_code == 200, stored.text
    assert stored.json()["version"] == current["version"] + 1


def test_an_undeclared_method_answers_json(platform):
    response = platform.call("TRACE", "/v1/members")
    assert response.status_code == 404 and error_of(response)["code"] == "ROUTE_NOT_FOUND"


def test_the_served_contract_lists_the_statuses_of_reads(platform):
    document = platform.call("GET", "/openapi.json", client=None).json()
    for path in ("/v1/members/{member_id}/points", "/v1/members/{member_id}/ledger",
                 "/v1/members/{member_id}/consents", "/v1/reports/feedback"):
        responses = document["paths"][path]["get"]["responses"]
        assert {"200", "400", "401", "403"} <= set(responses), path
        assert "content" in responses["200"], path
    assert json.dumps(document).count("INTERNAL_ERROR") == 0
