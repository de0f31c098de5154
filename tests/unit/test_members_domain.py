"""Member domain: enrollment input, profile patches, consent history, client identities and API keys."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from loyalty.clients.domain import ApiKeyRecord, hash_secret, new_api_key, parse_api_key, secret_matches
from loyalty.kernel.identity import ALL_STORES, DEFAULT_SCOPES, ClientIdentity, ClientKind, Scope
from loyalty.kernel.errors import MissingScope, StoreNotAllowed
from loyalty.members.domain import (
    Address, Channel, ConsentKind, ConsentRecord, EnrollmentRequest, Gender, Member, MemberPatch,
)

ENROLLED_AT = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


def enrollment(**overrides) -> dict:
    body = {
        "phone": "138 1234 5678",
        "store_id": "SH-JINGAN",
        "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}},
    }
    body.update(overrides)
    return body


def error_locations(err: ValidationError) -> list[tuple]:
    return [tuple(e["loc"]) for e in err.errors()]


# -- EnrollmentRequest ------------------------------------------------------------------------------
def test_minimal_enrollment_is_accepted():
    request = EnrollmentRequest.model_validate(enrollment())
    assert request.channel is Channel.POS
    assert request.consents.data_processing.granted is True
    assert request.consents.marketing is None
    assert request.interests == []


def test_data_processing_consent_must_be_granted():
    body = enrollment(consents={"data_processing": {"granted": False, "policy_version": "2026-01"}})
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(body)
    assert ("consents", "data_processing") in error_locations(err.value)


def test_data_processing_consent_is_required():
    body = enrollment(consents={"marketing": {"granted": True, "policy_version": "2026-01"}})
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(body)
    assert ("consents", "data_processing") in error_locations(err.value)


def test_marketing_consent_may_be_declined():
    body = enrollment(consents={"data_processing": {"granted": True, "policy_version": "2026-01"},
                                "marketing": {"granted": False, "policy_version": "2026-01"}})
    assert EnrollmentRequest.model_validate(body).consents.marketing.granted is False


def test_email_is_trimmed_and_lowercased():
    request = EnrollmentRequest.model_validate(enrollment(email="  Li.Wei@Example.COM "))
    assert request.email == "li.wei@example.com"


@pytest.mark.parametrize("email", ["li.wei", "li.wei@example", "@example.com", "li wei@example.com", "a@b@c.com"])
def test_invalid_email_is_refused(email):
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(enrollment(email=email))
    assert ("email",) in error_locations(err.value)


def test_birthday_in_the_future_is_refused():
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(enrollment(birthday=tomorrow.isoformat()))
    assert ("birthday",) in error_locations(err.value)


def test_birthday_before_1900_is_refused():
    with pytest.raises(ValidationError):
        EnrollmentRequest.model_validate(enrollment(birthday="1899-12-31"))


def test_past_birthday_is_kept_as_a_date():
    assert EnrollmentRequest.model_validate(enrollment(birthday="1990-05-17")).birthday == date(1990, 5, 17)


@pytest.mark.parametrize("extra", [{"tier": "gold"}, {"member_id": "mbr_X"}, {"points": 1000}])
def test_unknown_fields_are_refused(extra):
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(enrollment(**extra))
    assert (next(iter(extra)),) in error_locations(err.value)


def test_unknown_fields_inside_consents_are_refused():
    body = enrollment(consents={"data_processing": {"granted": True, "policy_version": "2026-01", "ip": "1.2.3.4"}})
    with pytest.raises(ValidationError):
        EnrollmentRequest.model_validate(body)


@pytest.mark.parametrize("store_id", ["", "SH JINGAN", "SH/JINGAN", "x" * 65])
def test_malformed_store_id_is_refused(store_id):
    with pytest.raises(ValidationError) as err:
        EnrollmentRequest.model_validate(enrollment(store_id=store_id))
    assert ("store_id",) in error_locations(err.value)


def test_unknown_channel_is_refused():
    with pytest.raises(ValidationError):
        EnrollmentRequest.model_validate(enrollment(channel="fax"))


# -- MemberPatch ------------------------------------------------------------------------------------
def test_patch_may_withdraw_data_processing():  # the service schedules the erasure
    patch = MemberPatch.model_validate({"consents": {"data_processing": {"granted": False, "policy_version": "2026-02"}}})
    assert patch.consents[ConsentKind.DATA_PROCESSING].granted is False


def test_patch_may_reaffirm_data_processing_and_change_marketing():
    patch = MemberPatch.model_validate({"consents": {
        "data_processing": {"granted": True, "policy_version": "2026-02"},
        "marketing": {"granted": False, "policy_version": "2026-02"},
    }})
    assert set(patch.consents) == {ConsentKind.DATA_PROCESSING, ConsentKind.MARKETING}


def test_patch_refuses_phone_change_and_unknown_fields():
    with pytest.raises(ValidationError):
        MemberPatch.model_validate({"phone": "+8613900001111"})
    with pytest.raises(ValidationError):
        MemberPatch.model_validate({"tier": "gold"})


def test_patch_validates_email_like_enrollment():
    assert MemberPatch.model_validate({"email": "NEW@Example.com"}).email == "new@example.com"
    with pytest.raises(ValidationError):
        MemberPatch.model_validate({"email": "not-an-email"})


# -- Member.apply_patch -----------------------------------------------------------------------------
def member(**overrides) -> Member:
    data = dict(
        member_id="mbr_01JD0000000000000000000000",
        card_number="8800000000000000",
        referral_code="ABCDEFGH",
        phone="+8613812345678",
        name="Li Wei",
        email="li.wei@example.com",
        gender=Gender.FEMALE,
        address=Address(city="Shanghai", district="Jing'an"),
        interests=["tea"],
        enrolled_store_id="SH-JINGAN",
        enrolled_channel=Channel.POS,
        enrolled_at=ENROLLED_AT,
        consents={
            ConsentKind.DATA_PROCESSING: ConsentRecord(kind=ConsentKind.DATA_PROCESSING, granted=True,
                                                       policy_version="2026-01", recorded_at=ENROLLED_AT),
            ConsentKind.MARKETING: ConsentRecord(kind=ConsentKind.MARKETING, granted=True,
                                                 policy_version="2026-01", recorded_at=ENROLLED_AT),
        },
        version=3,
        updated_at=ENROLLED_AT,
    )
    data.update(overrides)
    return Member(**data)


def test_apply_patch_changes_only_the_given_fields_and_bumps_version():
    before = member()
    after, new_consents = before.apply_patch(MemberPatch.model_validate({"name": "Wang Fang"}), now=LATER,
                                             client_id="pos-sh-jingan")
    assert after.name == "Wang Fang"
    assert after.email == before.email and after.address == before.address and after.interests == ["tea"]
    assert after.version == 4
    assert after.updated_at == LATER
    assert new_consents == []
    assert before.changed_fields(after) == ["name"]
    assert before.name == "Li Wei" and before.version == 3  # the original is untouched


def test_apply_patch_appends_consent_records_with_who_and_when():
    before = member()
    patch = MemberPatch.model_validate({"consents": {"marketing": {"granted": False, "policy_version": "2026-02"}}})
    after, new_consents = before.apply_patch(patch, now=LATER, client_id="member-app")
    assert len(new_consents) == 1
    record = new_consents[0]
    assert (record.kind, record.granted, record.policy_version, record.recorded_at, record.client_id) == (
        ConsentKind.MARKETING, False, "2026-02", LATER, "member-app")
    assert after.consents[ConsentKind.MARKETING] == record
    assert after.consents[ConsentKind.DATA_PROCESSING] == before.consents[ConsentKind.DATA_PROCESSING]
    assert before.consents[ConsentKind.MARKETING].granted is True
    assert before.changed_fields(after) == ["consents"]


def test_patch_with_the_same_values_changes_nothing():
    before = member()
    patch = MemberPatch.model_validate({
        "name": "Li Wei", "email": "li.wei@example.com", "gender": "female",
        "address": {"city": "Shanghai", "district": "Jing'an"}, "interests": ["tea"],
    })
    after, _ = before.apply_patch(patch, now=LATER, client_id="c")
    assert before.changed_fields(after) == []


def test_patched_address_is_an_address():
    before = member()
    after, _ = before.apply_patch(MemberPatch.model_validate({"address": {"city": "Hangzhou"}}), now=LATER,
                                  client_id="c")
    assert isinstance(after.address, Address)
    assert after.address.city == "Hangzhou"
    assert before.changed_fields(after) == ["address"]
    assert after.model_dump(mode="json")["address"]["city"] == "Hangzhou"


def test_null_clears_optional_fields_and_interests():
    before = member()
    after, _ = before.apply_patch(MemberPatch.model_validate({"name": None, "interests": None}), now=LATER,
                                  client_id="c")
    assert after.name is None
    assert after.interests == []
    assert before.changed_fields(after) == ["interests", "name"]


def test_changed_fields_lists_several_fields_sorted():
    before = member()
    patch = MemberPatch.model_validate({"gender": "other", "birthday": "1991-02-03", "interests": ["coffee"]})
    after, _ = before.apply_patch(patch, now=LATER, client_id="c")
    assert before.changed_fields(after) == ["birthday", "gender", "interests"]


# -- ClientIdentity ---------------------------------------------------------------------------------
def identity(kind=ClientKind.POS, stores=("SH-JINGAN",), scopes=None) -> ClientIdentity:
    return ClientIdentity(client_id="pos-sh-jingan", kind=kind,
                          scopes=frozenset(scopes) if scopes is not None else DEFAULT_SCOPES[kind],
                          store_ids=frozenset(stores))


def test_require_scope():
    pos = identity()
    pos.require(Scope.MEMBERS_WRITE)
    with pytest.raises(MissingScope) as err:
        pos.require(Scope.PROGRAM_ADMIN)
    assert err.value.details == {"scope": "program:admin"}


def test_client_without_scopes_is_refused_everything():
    client = identity(scopes=[])
    for scope in Scope:
        with pytest.raises(MissingScope):
            client.require(scope)


def test_require_store():
    pos = identity(stores=("SH-JINGAN", "SH-XUHUI"))
    pos.require_store("SH-XUHUI")
    with pytest.raises(StoreNotAllowed) as err:
        pos.require_store("HZ-XIHU")
    assert err.value.field == "store_id"
    with pytest.raises(StoreNotAllowed) as err:
        pos.require_store("HZ-XIHU", field="purchase.store_id")
    assert err.value.field == "purchase.store_id"


def test_all_stores_client_acts_for_any_store():
    backoffice = identity(kind=ClientKind.BACKOFFICE, stores=(ALL_STORES,))
    assert backoffice.acts_for("HZ-XIHU") and backoffice.acts_for("ANY-NEW-STORE")
    backoffice.require(Scope.PROGRAM_ADMIN)


def test_context_is_flat_strings_and_round_trips():
    original = identity(stores=("SH-XUHUI", "SH-JINGAN"))
    context = original.to_context()
    assert all(isinstance(v, str) for v in context.values())
    assert context["store_ids"] == "SH-JINGAN SH-XUHUI"
    assert context["kind"] == "pos"
    assert "members:write" in context["scopes"].split()
    assert ClientIdentity.from_context(context) == original


def test_context_round_trip_of_backoffice():
    original = identity(kind=ClientKind.BACKOFFICE, stores=(ALL_STORES,))
    assert ClientIdentity.from_context(original.to_context()) == original


def test_context_with_unknown_scope_is_refused():
    with pytest.raises(ValueError):
        ClientIdentity.from_context({"client_id": "x", "kind": "pos", "scopes": "members:read god:mode",
                                     "store_ids": "SH-JINGAN"})


# -- API keys ---------------------------------------------------------------------------------------
def test_new_api_key_keeps_only_the_hash():
    api_key, key_id, secret_hash = new_api_key("demoshjingan", "pos-secret-sh-jingan")
    assert api_key == "lk_demoshjingan_pos-secret-sh-jingan"
    assert key_id == "demoshjingan"
    assert secret_hash == hash_secret("pos-secret-sh-jingan")
    assert "pos-secret-sh-jingan" not in secret_hash


def test_generated_api_keys_parse_back():
    for _ in range(200):
        api_key, key_id, secret_hash = new_api_key()
        parsed = parse_api_key(api_key)
        assert parsed is not None and parsed[0] == key_id
        assert secret_matches(parsed[1], secret_hash)


def test_parse_api_key():
    assert parse_api_key("lk_demoshjingan_pos-secret-sh-jingan") == ("demoshjingan", "pos-secret-sh-jingan")
    assert parse_api_key(" lk_abc_se_cr_et ") == ("abc", "se_cr_et")  # secrets may contain '_'


@pytest.mark.parametrize("value", ["", None, "lk", "lk_abc", "lk_abc_", "lk__secret", "xx_abc_secret",
                                   "Bearer lk_abc_secret", "demoshjingan"])
def test_malformed_api_keys_do_not_parse(value):
    assert parse_api_key(value) is None


def test_secret_matches():
    stored = hash_secret("s3cret")
    assert secret_matches("s3cret", stored)
    assert not secret_matches("s3cret ", stored)
    assert not secret_matches("S3cret", stored)
    assert not secret_matches(stored, stored)  # the hash is not the secret


def test_revoked_record_is_inactive():
    record = ApiKeyRecord(key_id="k", secret_hash=hash_secret("s"), client_id="c", kind=ClientKind.POS,
                          scopes=DEFAULT_SCOPES[ClientKind.POS], store_ids=frozenset({"SH-JINGAN"}),
                          created_at=ENROLLED_AT)
    assert record.active
    assert record.identity().store_ids == frozenset({"SH-JINGAN"})
    assert not record.model_copy(update={"revoked_at": LATER}).active
