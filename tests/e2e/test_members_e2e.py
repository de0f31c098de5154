"""Enrollment and lookup over HTTP against the local run: authorizer, gateway, handlers, DynamoDB Local."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def enrollment(phone: str, store_id: str = "SH-JINGAN", **extra) -> dict:
    return {"phone": phone, "name": "王芳", "store_id": store_id, "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"},
                         "marketing": {"granted": True, "policy_version": "2026-01"}}, **extra}


def test_member_enrolled_in_shanghai_is_found_from_hangzhou_by_phone_and_card(platform, phone):
    created = platform.call("POST", "/v1/members", json=enrollment(phone))
    assert created.status_code == 201, created.text
    member = created.json()
    national = phone[:3] + " " + phone[3:7] + " " + phone[7:]
    by_phone = platform.call("POST", "/v1/members/lookup", client="pos-hz-xihu", json={"phone": national})
    assert by_phone.status_code == 200, by_phone.text
    assert by_phone.json()["member_id"] == member["member_id"]
    by_card = platform.call("POST", "/v1/members/lookup", client="webshop", json={"card_number": member["card_number"]})
    assert by_card.status_code == 200
    assert by_card.json()["member_id"] == member["member_id"]
    fetched = platform.call("GET", f"/v1/members/{member['member_id']}", client="pos-cd-chunxi")
    assert fetched.json()["phone"] == "+86" + phone


def test_duplicate_phone_is_refused_with_a_stable_code(platform, phone):
    assert platform.call("POST", "/v1/members", json=enrollment(phone)).status_code == 201
    again = platform.call("POST", "/v1/members", client="pos-hz-xihu", json=enrollment("+86" + phone, "HZ-XIHU"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "PHONE_ALREADY_ENROLLED"
    assert again.json()["error"]["field"] == "phone"


def test_retry_with_the_same_idempotency_key_returns_the_original_member(platform, phone):
    headers = {"Idempotency-Key": f"pos-sh-jingan-{phone}"}
    first = platform.call("POST", "/v1/members", json=enrollment(phone), headers=headers)
    retry = platform.call("POST", "/v1/members", json=enrollment(phone), headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["member_id"] == first.json()["member_id"]
    changed = platform.call("POST", "/v1/members", json=enrollment(phone, name="别人"), headers=headers)
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_concurrent_duplicate_enrollments_create_one_member(platform, phone):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: platform.call("POST", "/v1/members", json=enrollment(phone)), range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409}


@pytest.mark.parametrize("body, field, code", [
    ('{"phone": "1381234', None, "MALFORMED_JSON"),
    ({"name": "x", "store_id": "SH-JINGAN", "channel": "pos",
      "consents": {"data_processing": {"granted": True, "policy_version": "1"}}}, "phone", "VALIDATION_FAILED"),
    ({"phone": "12345", "store_id": "SH-JINGAN", "channel": "pos",
      "consents": {"data_processing": {"granted": True, "policy_version": "1"}}}, "phone", "INVALID_INPUT"),
    ({"phone": "13812340000", "store_id": "SH-JINGAN", "channel": "pos", "birthday": "not-a-date",
      "consents": {"data_processing": {"granted": True, "policy_version": "1"}}}, "birthday", "VALIDATION_FAILED"),
    ({"phone": "13812340000", "store_id": "SH-JINGAN", "channel": "fax",
      "consents": {"data_processing": {"granted": True, "policy_version": "1"}}}, "channel", "VALIDATION_FAILED"),
])
def test_bad_input_gets_a_4xx_naming_the_field(platform, body, field, code):
    if isinstance(body, str):
        response = platform.call("POST", "/v1/members", data=body, headers={"Content-Type": "application/json"})
    else:
        response = platform.call("POST", "/v1/members", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field


def test_unknown_store_and_oversized_body_are_refused(platform, phone):
    backoffice = platform.call("POST", "/v1/members", client="backoffice", json=enrollment(phone, "NOPE-001"))
    assert backoffice.status_code == 400
    assert backoffice.json()["error"] == {"code": "UNKNOWN_STORE", "field": "store_id",
                                          "message": backoffice.json()["error"]["message"]}
    huge = enrollment(phone, interests=["x" * 30] * 3000)
    too_large = platform.call("POST", "/v1/members", json=huge)
    assert too_large.status_code == 413
    lookup = platform.call("POST", "/v1/members/lookup", json={"phone": phone})
    assert lookup.status_code == 404, "nothing was written for the refused requests"


def test_missing_unknown_and_revoked_keys_get_401(platform, phone):
    assert platform.call("POST", "/v1/members", client=None, json=enrollment(phone)).status_code == 401
    wrong = platform.call("POST", "/v1/members", client=None, json=enrollment(phone),
                          headers={"X-Api-Key": "lk_demoshjingan_wrong-secret"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "UNAUTHORIZED"

    import subprocess
    import sys

    created = subprocess.run([sys.executable, "-m", "ops.admin", "--local", "keys", "create", "--client-id",
                              "pos-temp", "--kind", "pos", "--stores", "SH-XUHUI"], capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(": ", 1) for line in created.stdout.splitlines() if ": " in line)
    key = lines["api_key"]
    ok = platform.call("POST", "/v1/members/lookup", client=None, json={"phone": phone}, headers={"X-Api-Key": key})
    assert ok.status_code == 404  # authorized; the member just doesn't exist
    revoked = subprocess.run([sys.executable, "-m", "ops.admin", "--local", "keys", "revoke", lines["key_id"]],
                             capture_output=True, text=True)
    assert revoked.returncode == 0, revoked.stderr
    after = platform.call("POST", "/v1/members/lookup", client=None, json={"phone": phone}, headers={"X-Api-Key": key})
    assert after.status_code == 401


def test_pos_may_not_enroll_for_another_store(platform, phone):
    response = platform.call("POST", "/v1/members", client="pos-hz-xihu", json=enrollment(phone, "SH-JINGAN"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "STORE_NOT_ALLOWED"
    assert platform.call("POST", "/v1/members/lookup", json={"phone": phone}).status_code == 404


def test_enrollment_event_reaches_the_bus_without_personal_data(platform, phone):
    import time

    member = platform.call("POST", "/v1/members", json=enrollment(phone, email=f"u{phone}@example.com")).json()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = platform.call("GET", "/_local/events", client=None).json()["items"]
        mine = [e for e in events if e["detail"].get("member_id") == member["member_id"]]
        if mine:
            break
        time.sleep(0.3)
    assert [e["detail-type"] for e in mine] == ["MemberEnrolled.v1"]
    text = str(mine)
    assert phone not in text and "example.com" not in text and "王芳" not in text


def test_unknown_route_and_openapi(platform):
    assert platform.call("GET", "/v1/nothing-here").status_code == 404
    document = platform.call("GET", "/openapi.json", client=None).json()
    assert "/v1/members" in document["paths"]


def test_body_sent_as_a_form_content_type_is_still_read_as_json(platform, phone):
    """curl -d sends application/x-www-form-urlencoded; the API reads JSON regardless."""
    import json

    response = platform.call("POST", "/v1/members/lookup", data=json.dumps({"phone": phone}),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "MEMBER_NOT_FOUND"
    assert phone not in response.text
