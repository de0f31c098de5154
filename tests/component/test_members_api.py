"""The members API: handler, validation, error mapping and the DynamoDB adapter on moto."""
from __future__ import annotations

import json

import pytest

import members
from tests.conftest import BACKOFFICE, POS_HZ, POS_SH, api_event, response_json

MEMBER_ID_UNKNOWN = "mbr_01JD0000000000000000000000"


def enrollment(**overrides) -> dict:
    body = {
        "phone": "138 1234 5678",
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "store_id": "SH-JINGAN",
        "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"},
                     "marketing": {"granted": True, "policy_version": "2026-01"}},
    }
    body.update(overrides)
    return body


def enroll(ctx, body=None, *, client=POS_SH, headers=None):
    return members.handler(api_event("POST", "/v1/members", body=body if body is not None else enrollment(),
                                     client=client, headers=headers), ctx)


def lookup(ctx, body, *, client=POS_SH):
    return members.handler(api_event("POST", "/v1/members/lookup", body=body, client=client), ctx)


def get_member(ctx, member_id, *, client=POS_SH):
    return members.handler(api_event("GET", "/v1/members/{member_id}", path_params={"member_id": member_id},
                                     client=client), ctx)


def patch_member(ctx, member_id, body, *, client=POS_SH):
    return members.handler(api_event("PATCH", "/v1/members/{member_id}", path_params={"member_id": member_id},
                                     body=body, client=client), ctx)


def consents(ctx, member_id, *, client=POS_SH):
    return members.handler(api_event("GET", "/v1/members/{member_id}/consents",
                                     path_params={"member_id": member_id}, client=client), ctx)


def table_items(services) -> list[dict]:
    items, kwargs = [], {}
    while True:
        page = services.table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def members_in_table(services) -> list[dict]:
    return [i for i in table_items(services) if i.get("entity") == "member"]


def header(response, name: str) -> str:
    """A response header, whichever of the REST proxy's header maps the resolver filled."""
    single = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    if name.lower() in single:
        return single[name.lower()]
    values = multi.get(name.lower())
    assert values, f"no {name} header in {response}"
    return values[0]


def error_of(response) -> dict:
    return response_json(response)["error"]


# -- enroll -----------------------------------------------------------------------------------------
def test_enroll_returns_201_with_location_and_card(services, ctx, publisher):
    response = enroll(ctx)
    assert response["statusCode"] == 201, response
    body = response_json(response)
    assert body["member_id"].startswith("mbr_")
    assert header(response, "Location") == f"/v1/members/{body['member_id']}"
    assert len(body["card_number"]) == 16 and body["card_number"].isdigit()
    assert body["card_barcode"] == body["card_number"]
    assert body["phone"] == "+8613812345678"
    assert body["email"] == "li.wei@example.com"
    assert publisher.types() == ["MemberEnrolled.v1"]
    assert len(members_in_table(services)) == 1


def test_member_enrolled_at_one_store_is_found_at_another(services, ctx):
    enrolled = response_json(enroll(ctx))
    by_phone = lookup(ctx, {"phone": "+86 138-1234-5678"}, client=POS_HZ)
    assert by_phone["statusCode"] == 200, by_phone
    assert response_json(by_phone)["member_id"] == enrolled["member_id"]
    by_card = lookup(ctx, {"card_number": enrolled["card_number"]}, client=POS_HZ)
    assert by_card["statusCode"] == 200, by_card
    assert response_json(by_card)["member_id"] == enrolled["member_id"]
    fetched = get_member(ctx, enrolled["member_id"], client=POS_HZ)
    assert response_json(fetched)["enrolled_store_id"] == "SH-JINGAN"


def test_lookup_with_both_or_neither_identifier_is_refused(services, ctx):
    assert lookup(ctx, {})["statusCode"] == 400
    both = lookup(ctx, {"phone": "13812345678", "card_number": "4111111111111111"})
    assert both["statusCode"] == 400


def test_lookup_of_unknown_phone_is_404(services, ctx):
    response = lookup(ctx, {"phone": "13900001111"})
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "MEMBER_NOT_FOUND"


def test_duplicate_phone_is_409_and_writes_nothing(services, ctx, publisher):
    enroll(ctx)
    before = table_items(services)
    response = enroll(ctx, enrollment(phone="+8613812345678", email="someone.else@example.com"), client=BACKOFFICE)
    assert response["statusCode"] == 409, response
    assert error_of(response)["code"] == "PHONE_ALREADY_ENROLLED"
    assert error_of(response)["field"] == "phone"
    after = table_items(services)
    assert len(after) == len(before)
    assert not any(i["PK"] == "EMAIL#someone.else@example.com" for i in after)
    assert publisher.types() == ["MemberEnrolled.v1"]


def test_duplicate_email_is_409(services, ctx):
    enroll(ctx)
    count = len(table_items(services))
    response = enroll(ctx, enrollment(phone="13900001111", email="Li.Wei@Example.com"))
    assert response["statusCode"] == 409
    assert error_of(response)["code"] == "EMAIL_ALREADY_ENROLLED"
    assert error_of(response)["field"] == "email"
    assert len(table_items(services)) == count


def test_idempotent_retry_returns_200_with_the_same_member(services, ctx, publisher):
    headers = {"Idempotency-Key": "till-7-receipt-000123"}
    first = enroll(ctx, headers=headers)
    again = enroll(ctx, headers=headers)
    assert first["statusCode"] == 201
    assert again["statusCode"] == 200, again
    assert response_json(again)["member_id"] == response_json(first)["member_id"]
    assert response_json(again) == response_json(first)  # the original response, nulls included
    assert header(again, "Location") == header(first, "Location")
    assert len(members_in_table(services)) == 1
    assert publisher.types() == ["MemberEnrolled.v1"]


def test_same_idempotency_key_with_another_body_is_409(services, ctx):
    headers = {"Idempotency-Key": "till-7-receipt-000123"}
    enroll(ctx, headers=headers)
    response = enroll(ctx, enrollment(phone="13900001111", email=None), headers=headers)
    assert response["statusCode"] == 409
    assert error_of(response)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(members_in_table(services)) == 1


def test_too_short_idempotency_key_is_refused(services, ctx):
    response = enroll(ctx, headers={"Idempotency-Key": "k1"})
    assert response["statusCode"] == 400
    assert members_in_table(services) == []


def test_malformed_json_is_400(services, ctx):
    response = enroll(ctx, '{"phone": "13812345678", ')
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize(("body", "field"), [
    ({k: v for k, v in enrollment().items() if k != "phone"}, "phone"),
    (enrollment(phone=13812345678), "phone"),
    ({k: v for k, v in enrollment().items() if k != "store_id"}, "store_id"),
    (enrollment(store_id=["SH-JINGAN"]), "store_id"),
    (enrollment(consents={"data_processing": {"granted": False, "policy_version": "2026-01"}}),
     "consents.data_processing"),
    (enrollment(consents={}), "consents.data_processing"),
    (enrollment(channel="fax"), "channel"),
    (enrollment(email="not-an-email"), "email"),
    (enrollment(tier="gold"), "tier"),
])
def test_invalid_body_is_400_naming_the_field(services, ctx, body, field):
    response = enroll(ctx, body)
    assert response["statusCode"] == 400, response
    error = error_of(response)
    assert error["code"] == "VALIDATION_FAILED"
    assert error["field"] == field
    assert members_in_table(services) == []


def test_unknown_store_is_400_and_writes_nothing(services, ctx, publisher):
    before = len(table_items(services))
    response = enroll(ctx, enrollment(store_id="SZ-NANSHAN"), client=BACKOFFICE)
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "UNKNOWN_STORE"
    assert error_of(response)["field"] == "store_id"
    assert len(table_items(services)) == before
    assert publisher.events == []


def test_pos_enrolling_for_another_store_is_403(services, ctx):
    response = enroll(ctx, enrollment(store_id="HZ-XIHU"), client=POS_SH)
    assert response["statusCode"] == 403
    assert error_of(response)["code"] == "STORE_NOT_ALLOWED"
    assert members_in_table(services) == []


@pytest.mark.parametrize("phone", ["021-6888-1234", "138abcd5678", "+86 138 1234 567"])
def test_bad_phone_is_400_naming_phone(services, ctx, phone):
    response = enroll(ctx, enrollment(phone=phone))
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "phone"
    assert members_in_table(services) == []


def test_body_over_64_kib_is_413(services, ctx):
    response = enroll(ctx, enrollment(address={"line": "x" * (65 * 1024)}))
    assert response["statusCode"] == 413
    assert error_of(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert members_in_table(services) == []


def test_multibyte_body_is_measured_in_bytes(services, ctx):
    # 22,000 CJK characters are 66,000 bytes in UTF-8, though fewer than 64 Ki characters.
    response = enroll(ctx, json.dumps(enrollment(name="李" * 22_000), ensure_ascii=False))
    assert response["statusCode"] == 413


def test_unknown_member_is_404(services, ctx):
    response = get_member(ctx, MEMBER_ID_UNKNOWN)
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "MEMBER_NOT_FOUND"


@pytest.mark.parametrize("member_id", ["42", "mbr_lowercase0000000000000000", "mbr_01JD000000000000000000000",
                                       "mbr_01JD00000000000000000000000", "MBR_01JD0000000000000000000000"])
def test_malformed_member_id_is_400(services, ctx, member_id):
    response = get_member(ctx, member_id)
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "member_id"


# -- profile and consents ---------------------------------------------------------------------------
def test_patch_profile_and_consents_keeps_history(services, ctx, clock, publisher):
    member_id = response_json(enroll(ctx))["member_id"]
    clock.advance(days=3)
    response = patch_member(ctx, member_id, {
        "name": "Wang Fang",
        "address": {"city": "Shanghai", "district": "Xuhui"},
        "consents": {"marketing": {"granted": False, "policy_version": "2026-02"}},
    })
    assert response["statusCode"] == 200, response
    body = response_json(response)
    assert body["name"] == "Wang Fang"
    assert body["address"]["district"] == "Xuhui"
    assert body["consents"]["marketing"]["granted"] is False
    assert body["phone"] == "+8613812345678"

    stored = response_json(get_member(ctx, member_id))
    assert stored["name"] == "Wang Fang" and stored["consents"]["marketing"]["policy_version"] == "2026-02"

    history = consents(ctx, member_id)
    assert history["statusCode"] == 200
    items = response_json(history)["items"]
    marketing = [c for c in items if c["kind"] == "marketing"]
    assert [(c["granted"], c["policy_version"]) for c in marketing] == [(False, "2026-02"), (True, "2026-01")]
    recorded = [c["recorded_at"] for c in items]
    assert recorded == sorted(recorded, reverse=True)
    assert items[0]["kind"] == "marketing" and items[0]["granted"] is False
    assert any(c["kind"] == "data_processing" for c in items)

    assert publisher.types() == ["MemberEnrolled.v1", "MemberProfileChanged.v1"]
    assert publisher.events[-1].detail["changed_fields"] == ["address", "consents", "name"]


def test_patch_address_twice_with_the_same_value_changes_nothing_the_second_time(services, ctx, clock, publisher):
    member_id = response_json(enroll(ctx))["member_id"]
    clock.advance(hours=1)
    assert patch_member(ctx, member_id, {"address": {"city": "Hangzhou"}})["statusCode"] == 200
    clock.advance(hours=1)
    assert patch_member(ctx, member_id, {"address": {"city": "Hangzhou"}})["statusCode"] == 200
    assert publisher.types() == ["MemberEnrolled.v1", "MemberProfileChanged.v1"]


def test_patch_withdrawing_data_processing_schedules_the_erasure(services, ctx, clock):
    member_id = response_json(enroll(ctx))["member_id"]
    clock.advance(minutes=1)
    response = patch_member(ctx, member_id, {"consents": {"data_processing": {"granted": False,
                                                                               "policy_version": "2026-02"}}})
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["status"] == "erasure_scheduled" and body["consents"]["data_processing"]["granted"] is False


def test_patch_email_moves_the_claim(services, ctx, clock):
    member_id = response_json(enroll(ctx))["member_id"]
    clock.advance(minutes=5)
    assert patch_member(ctx, member_id, {"email": "New@Example.com"})["statusCode"] == 200
    keys = {i["PK"] for i in table_items(services)}
    assert "EMAIL#new@example.com" in keys
    assert "EMAIL#li.wei@example.com" not in keys
    # the freed email can be used by a new member
    other = enroll(ctx, enrollment(phone="13900001111", email="li.wei@example.com"))
    assert other["statusCode"] == 201


def test_patch_email_to_another_members_email_is_409(services, ctx, clock):
    first = response_json(enroll(ctx))["member_id"]
    enroll(ctx, enrollment(phone="13900001111", email="other@example.com"))
    clock.advance(minutes=5)
    response = patch_member(ctx, first, {"email": "other@example.com", "name": "Changed"})
    assert response["statusCode"] == 409
    assert error_of(response)["code"] == "EMAIL_ALREADY_ENROLLED"
    claims = {i["PK"]: i["member_id"] for i in table_items(services) if i["PK"].startswith("EMAIL#")}
    assert claims["EMAIL#li.wei@example.com"] == first
    assert claims["EMAIL#other@example.com"] != first
    unchanged = response_json(get_member(ctx, first))
    assert unchanged["email"] == "li.wei@example.com" and unchanged["name"] == "Li Wei"


def test_patch_unknown_member_is_404(services, ctx):
    response = patch_member(ctx, MEMBER_ID_UNKNOWN, {"name": "X"})
    assert response["statusCode"] == 404


def test_consents_of_unknown_member_is_404(services, ctx):
    assert consents(ctx, MEMBER_ID_UNKNOWN)["statusCode"] == 404


# -- authentication ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda ctx: enroll(ctx, client={}),
    lambda ctx: lookup(ctx, {"phone": "13812345678"}, client={}),
    lambda ctx: get_member(ctx, MEMBER_ID_UNKNOWN, client={}),
    lambda ctx: patch_member(ctx, MEMBER_ID_UNKNOWN, {"name": "X"}, client={}),
    lambda ctx: consents(ctx, MEMBER_ID_UNKNOWN, client={}),
], ids=["enroll", "lookup", "get", "patch", "consents"])
def test_request_without_authorizer_context_is_401(services, ctx, call):
    response = call(ctx)
    assert response["statusCode"] == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
    assert members_in_table(services) == []


def test_a_browser_origin_the_stack_allows_may_read_the_answer(services, ctx, monkeypatch):
    from loyalty.platform import environment as env
    from loyalty.platform.settings import ApiSettings, load_settings

    monkeypatch.setenv(env.CORS_ALLOW_ORIGINS, "https://shop.example.com")
    load_settings.cache_clear()
    try:
        missing = {"member_id": "mbr_01JD0000000000000000000000"}
        allowed = api_event("GET", "/v1/members/{member_id}", path_params=missing, client=POS_SH,
                            headers={"Origin": "https://shop.example.com"})
        other = api_event("GET", "/v1/members/{member_id}", path_params=missing, client=POS_SH,
                          headers={"Origin": "https://evil.example.com"})
        answer = members.handler(allowed, ctx)
        assert answer["statusCode"] == 404
        assert answer["headers"]["Access-Control-Allow-Origin"] == "https://shop.example.com"
        assert "Access-Control-Allow-Origin" not in members.handler(other, ctx).get("headers", {})
        assert load_settings(ApiSettings).origins == {"https://shop.example.com"}
    finally:
        load_settings.cache_clear()
