"""Personal data never reaches logs or events: enrollment, lookup and profile changes log member ids only."""
from __future__ import annotations

import json

import members
from tests.conftest import POS_HZ, POS_SH, api_event, response_json

RAW_PHONE = "138 1234 5678"
NATIONAL_PHONE = "13812345678"
E164_PHONE = "+8613812345678"
DASHED_PHONE = "138-1234-5678"
NAME = "Zhang Xiaoming"
CJK_NAME = "张晓明"
EMAIL = "Zhang.Xiaoming@Example.com"
NEW_EMAIL = "xiaoming.new@example.com"
BIRTHDAY = "1988-07-14"
ADDRESS_LINE = "No. 1601 Nanjing West Road"

PERSONAL_DATA = [RAW_PHONE, NATIONAL_PHONE, E164_PHONE, E164_PHONE[1:], DASHED_PHONE, NAME, CJK_NAME,
                 EMAIL, EMAIL.lower(), NEW_EMAIL, BIRTHDAY, ADDRESS_LINE]


def log_records(output: str) -> list[dict]:
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [r for r in records if "level" in r]  # leave out EMF metric blobs


def leaks(text: str) -> list[str]:
    return [value for value in PERSONAL_DATA if value in text or json.dumps(value)[1:-1] in text]


def run_member_flows(ctx, clock) -> str:
    enrolled = members.handler(api_event("POST", "/v1/members", client=POS_SH, body={
        "phone": RAW_PHONE, "name": NAME, "email": EMAIL, "birthday": BIRTHDAY, "gender": "male",
        "address": {"city": "Shanghai", "line": ADDRESS_LINE},
        "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"},
                     "marketing": {"granted": True, "policy_version": "2026-01"}},
    }, headers={"Idempotency-Key": "till-3-receipt-004711"}), ctx)
    assert enrolled["statusCode"] == 201, enrolled
    member_id = response_json(enrolled)["member_id"]

    # the refused paths log too: a duplicate and an invalid phone
    duplicate = members.handler(api_event("POST", "/v1/members", client=POS_HZ, body={
        "phone": DASHED_PHONE, "name": CJK_NAME, "store_id": "HZ-XIHU", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}},
    }), ctx)
    assert duplicate["statusCode"] == 409

    found = members.handler(api_event("POST", "/v1/members/lookup", client=POS_HZ, body={"phone": E164_PHONE}), ctx)
    assert response_json(found)["member_id"] == member_id
    missing = members.handler(api_event("POST", "/v1/members/lookup", client=POS_HZ,
                                        body={"phone": "139 0000 1111"}), ctx)
    assert missing["statusCode"] == 404

    clock.advance(days=1)
    changed = members.handler(api_event("PATCH", "/v1/members/{member_id}", path_params={"member_id": member_id},
                                        client=POS_HZ, body={"name": CJK_NAME, "email": NEW_EMAIL,
                                                             "consents": {"marketing": {"granted": False,
                                                                                        "policy_version": "2026-02"}}}),
                               ctx)
    assert changed["statusCode"] == 200, changed
    return member_id


def test_logs_carry_member_ids_and_no_personal_data(services, ctx, clock, log_output):
    member_id = run_member_flows(ctx, clock)
    output = log_output()
    records = log_records(output)
    messages = [r["message"] for r in records]
    # the capture works: each flow's log line is here, naming the member
    assert {"enrollment", "member lookup", "member changed", "request refused"} <= set(messages)
    assert member_id in output
    assert all(r.get("member_id") == member_id for r in records if r["message"] in {"enrollment", "member changed"})
    assert leaks(output) == []


def test_events_carry_ids_and_no_personal_data(services, ctx, clock, publisher):
    member_id = run_member_flows(ctx, clock)
    assert publisher.types() == ["MemberEnrolled.v1", "MemberProfileChanged.v1"]
    for event in publisher.events:
        assert event.detail["member_id"] == member_id
        serialized = json.dumps(event.envelope(), default=str, ensure_ascii=False) + event.model_dump_json()
        assert leaks(serialized) == []
    assert set(publisher.events[1].detail["changed_fields"]) == {"name", "email", "consents"}


def test_the_check_would_see_a_leak():
    # guards the guard: each personal value in any of its forms is detected
    assert leaks('{"phone":"+8613812345678"}') == [NATIONAL_PHONE, E164_PHONE, E164_PHONE[1:]]
    assert leaks(json.dumps({"name": CJK_NAME})) == [CJK_NAME]  # \\u-escaped CJK
    assert leaks(json.dumps({"email": EMAIL.lower()})) == [EMAIL.lower()]
    assert leaks('{"member_id":"mbr_01JD0000000000000000000000"}') == []
