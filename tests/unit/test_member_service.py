"""MemberService against in-memory ports that keep the DynamoDB repository's contract:
unique phone, email, card and referral code; idempotency claims stored with the member, atomically."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyalty.members.service import MemberService
from loyalty.kernel.identity import DEFAULT_SCOPES, ClientIdentity, ClientKind, Scope
from loyalty.kernel.errors import (
    ConcurrentUpdate, IdempotencyKeyReused, InvalidInput, MemberNotFound, MissingScope, StoreNotAllowed, StoreNotFound,
)
from loyalty.members.errors import EmailAlreadyEnrolled, PhoneAlreadyEnrolled
from loyalty.kernel.idempotency import IdempotencyClaim, replay_or_conflict
from loyalty.kernel.stores import Store
from loyalty.members.domain import ConsentRecord, EnrollmentRequest, Member, MemberPatch

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


class FakeMemberRepository:
    def __init__(self):
        self.members: dict[str, Member] = {}
        self.claims: dict[tuple[str, str], str] = {}  # (kind, value) -> member id
        self.idempotency: dict[tuple[str, str], tuple[str, dict]] = {}
        self.consents: dict[str, list[ConsentRecord]] = {}
        self.outbox: list = []  # events committed with the changes
        self.accesses: list = []  # back-office reads of personal data

    def record_access(self, record) -> None:
        self.accesses.append(record)

    def access_log(self, member_id: str, *, limit: int) -> list:
        return [r for r in reversed(self.accesses) if r.member_id == member_id][:limit]

    def create_member(self, member: Member, claim: IdempotencyClaim | None, events) -> None:
        # Check everything first: the real write is one transaction, all or nothing.
        if claim is not None and (claim.scope, claim.key) in self.idempotency:
            stored_hash, stored_response = self.idempotency[(claim.scope, claim.key)]
            raise replay_or_conflict(stored_hash, stored_response, claim)
        if ("PHONE", member.phone) in self.claims:
            raise PhoneAlreadyEnrolled("a member with this phone number already exists", field="phone")
        if member.email and ("EMAIL", member.email) in self.claims:
            raise EmailAlreadyEnrolled("a member with this email already exists", field="email")
        for kind, value in (("CARD", member.card_number), ("REFCODE", member.referral_code)):
            if (kind, value) in self.claims:
                raise ConcurrentUpdate("collision")
        if claim is not None:
            self.idempotency[(claim.scope, claim.key)] = (claim.request_hash, claim.response)
        self.claims[("PHONE", member.phone)] = member.member_id
        if member.email:
            self.claims[("EMAIL", member.email)] = member.member_id
        self.claims[("CARD", member.card_number)] = member.member_id
        self.claims[("REFCODE", member.referral_code)] = member.member_id
        self.members[member.member_id] = member
        self.consents[member.member_id] = list(member.consents.values())
        self.outbox.extend(events)

    def update_member(self, before: Member, after: Member, new_consents: list[ConsentRecord], events,
                      erasure=(None, None)) -> None:
        stored = self.members.get(before.member_id)
        if stored is None or stored.version != before.version:
            raise ConcurrentUpdate("the member was changed by another request; reload and retry")
        if after.email != before.email:
            if after.email and ("EMAIL", after.email) in self.claims:
                raise EmailAlreadyEnrolled("a member with this email already exists", field="email")
            if before.email:
                del self.claims[("EMAIL", before.email)]
            if after.email:
                self.claims[("EMAIL", after.email)] = after.member_id
        self.members[after.member_id] = after
        self.consents[after.member_id].extend(new_consents)
        self.outbox.extend(events)

    def get_member(self, member_id: str) -> Member | None:
        return self.members.get(member_id)

    def member_id_by_phone(self, phone: str) -> str | None:
        return self.claims.get(("PHONE", phone))

    def member_id_by_card(self, card_number: str) -> str | None:
        return self.claims.get(("CARD", card_number))

    def member_id_by_referral_code(self, code: str) -> str | None:
        return self.claims.get(("REFCODE", code))

    def consent_history(self, member_id: str) -> list[ConsentRecord]:
        return sorted(self.consents.get(member_id, []), key=lambda c: (c.recorded_at, c.kind.value), reverse=True)


class FakeStores:
    def __init__(self, *store_ids: str):
        self.stores = {s: Store(store_id=s, name=s, city="test") for s in store_ids}

    def get_store(self, store_id: str) -> Store | None:
        return self.stores.get(store_id)


class Outbox:
    """The events the repository committed with the changes, as the relay would publish them."""

    def __init__(self, repo: "FakeMemberRepository"):
        self._repo = repo

    @property
    def events(self):
        return list(self._repo.outbox)


class Clock:
    def __init__(self):
        self.current = NOW

    def now(self) -> datetime:
        return self.current


def client(client_id: str, kind: ClientKind, stores: set[str], scopes=None) -> ClientIdentity:
    return ClientIdentity(client_id=client_id, kind=kind, store_ids=frozenset(stores),
                          scopes=frozenset(scopes) if scopes is not None else DEFAULT_SCOPES[kind])


POS_SH = client("pos-sh-jingan", ClientKind.POS, {"SH-JINGAN"})
POS_HZ = client("pos-hz-xihu", ClientKind.POS, {"HZ-XIHU"})
BACKOFFICE = client("backoffice", ClientKind.BACKOFFICE, {"*"})


@pytest.fixture
def repo():
    return FakeMemberRepository()


@pytest.fixture
def publisher(repo):
    return Outbox(repo)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(repo, publisher, clock):
    return MemberService(members=repo, stores=FakeStores("SH-JINGAN", "HZ-XIHU", "WEB"), clock=clock,
                         default_country_code="86")


def request(**overrides) -> EnrollmentRequest:
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
    return EnrollmentRequest.model_validate(body)


# -- enroll -----------------------------------------------------------------------------------------
def test_enroll_creates_member_and_publishes_ids_only(service, repo, publisher):
    outcome = service.enroll(request(), POS_SH, None)
    assert outcome.created
    view = outcome.member.body()
    assert view["phone"] == "+8613812345678"
    assert view["enrolled_store_id"] == "SH-JINGAN"
    assert view["card_barcode"] == view["card_number"]
    assert "version" not in view
    stored = repo.members[view["member_id"]]
    assert stored.consents.keys() == {"data_processing", "marketing"}
    assert stored.consents["data_processing"].client_id == "pos-sh-jingan"
    assert stored.consents["data_processing"].store_id == "SH-JINGAN"
    assert [e.detail_type for e in publisher.events] == ["MemberEnrolled.v1"]
    event = publisher.events[0]
    assert event.source == "loyalty.members"
    assert event.detail == {"member_id": view["member_id"], "store_id": "SH-JINGAN", "channel": "pos",
                            "client_id": "pos-sh-jingan", "referred_by": None, "marketing_opt_in": True}


def test_marketing_opt_in_is_false_without_marketing_consent(service, publisher):
    service.enroll(request(consents={"data_processing": {"granted": True, "policy_version": "2026-01"}}), POS_SH,
                   None)
    assert publisher.events[0].detail["marketing_opt_in"] is False


def test_same_phone_in_another_format_is_already_enrolled(service, repo, publisher):
    service.enroll(request(), POS_SH, None)
    with pytest.raises(PhoneAlreadyEnrolled) as err:
        service.enroll(request(phone="+86 138-1234-5678", email=None), BACKOFFICE, None)
    assert err.value.field == "phone"
    assert len(repo.members) == 1
    assert len(publisher.events) == 1


def test_same_email_is_already_enrolled(service, repo):
    service.enroll(request(), POS_SH, None)
    with pytest.raises(EmailAlreadyEnrolled) as err:
        service.enroll(request(phone="13900001111", email="LI.WEI@example.com"), POS_SH, None)
    assert err.value.field == "email"
    assert len(repo.members) == 1
    assert ("PHONE", "+8613900001111") not in repo.claims


def test_retry_with_same_idempotency_key_replays_the_original(service, repo, publisher):
    first = service.enroll(request(), POS_SH, "key-0001-abcdef")
    again = service.enroll(request(), POS_SH, "key-0001-abcdef")
    assert first.created and not again.created
    assert again.member == first.member
    assert len(repo.members) == 1
    assert len(publisher.events) == 1


def test_same_idempotency_key_with_other_body_is_refused(service, repo):
    service.enroll(request(), POS_SH, "key-0001-abcdef")
    with pytest.raises(IdempotencyKeyReused):
        service.enroll(request(phone="13900001111", email=None), POS_SH, "key-0001-abcdef")
    assert len(repo.members) == 1


def test_idempotency_keys_are_per_client(service, repo):
    service.enroll(request(), POS_SH, "key-0001-abcdef")
    outcome = service.enroll(request(phone="13900001111", email=None, store_id="HZ-XIHU"), POS_HZ,
                             "key-0001-abcdef")
    assert outcome.created
    assert len(repo.members) == 2


def test_retry_without_key_is_a_duplicate(service):
    service.enroll(request(), POS_SH, None)
    with pytest.raises(PhoneAlreadyEnrolled):
        service.enroll(request(), POS_SH, None)


def test_unknown_store_is_refused(service, repo, publisher):
    with pytest.raises(StoreNotFound) as err:
        service.enroll(request(store_id="SZ-NANSHAN"), BACKOFFICE, None)
    assert err.value.field == "store_id"
    assert isinstance(err.value, InvalidInput)
    assert repo.members == {} and publisher.events == []


def test_pos_cannot_enroll_for_another_store(service, repo):
    with pytest.raises(StoreNotAllowed) as err:
        service.enroll(request(store_id="HZ-XIHU"), POS_SH, None)
    assert err.value.field == "store_id"
    assert repo.members == {}


def test_enroll_needs_members_write_scope(service, repo):
    reader = client("reports", ClientKind.BACKOFFICE, {"*"}, scopes=[Scope.MEMBERS_READ])
    with pytest.raises(MissingScope):
        service.enroll(request(), reader, None)
    assert repo.members == {}


def test_bad_phone_is_refused_before_anything_is_written(service, repo):
    with pytest.raises(InvalidInput) as err:
        service.enroll(request(phone="021 6888 1234"), POS_SH, None)
    assert err.value.field == "phone"
    assert repo.members == {}


def test_referral_code_links_referred_by(service, repo, publisher):
    referrer = service.enroll(request(), POS_SH, None).member.body()
    referred = service.enroll(
        request(phone="13900001111", email=None, channel="referral", referral_code=referrer["referral_code"].lower()),
        POS_SH, None,
    ).member.body()
    assert referred["referred_by"] == referrer["member_id"]
    assert repo.members[referred["member_id"]].referred_by == referrer["member_id"]
    assert publisher.events[-1].detail["referred_by"] == referrer["member_id"]


def test_unknown_referral_code_is_refused(service, repo):
    with pytest.raises(InvalidInput) as err:
        service.enroll(request(referral_code="ZZZZ9999"), POS_SH, None)
    assert err.value.field == "referral_code"
    assert repo.members == {}


# -- lookup -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678"])
def test_find_by_phone_in_any_format_from_another_store(service, typed):
    enrolled = service.enroll(request(), POS_SH, None).member.body()
    assert service.find_by_phone(typed, POS_HZ).body()["member_id"] == enrolled["member_id"]


def test_find_by_unknown_phone(service):
    with pytest.raises(MemberNotFound) as err:
        service.find_by_phone("13900001111", POS_SH)
    assert err.value.field == "phone"


def test_find_by_card_accepts_spaces(service):
    enrolled = service.enroll(request(), POS_SH, None).member.body()
    card = enrolled["card_number"]
    spaced = " ".join(card[i:i + 4] for i in range(0, 16, 4))
    assert service.find_by_card(card, POS_HZ).body()["member_id"] == enrolled["member_id"]
    assert service.find_by_card(spaced, POS_HZ).body()["member_id"] == enrolled["member_id"]


def test_find_by_card_with_a_typo_is_invalid_not_missing(service):
    card = service.enroll(request(), POS_SH, None).member.body()["card_number"]
    typo = card[:5] + str((int(card[5]) + 1) % 10) + card[6:]
    with pytest.raises(InvalidInput) as err:
        service.find_by_card(typo, POS_SH)
    assert err.value.field == "card_number"
    assert not isinstance(err.value, MemberNotFound)


def test_find_by_unknown_valid_card(service):
    with pytest.raises(MemberNotFound):
        service.find_by_card("4111111111111111", POS_SH)


def test_reads_need_members_read_scope(service):
    member_id = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    writer_only = client("importer", ClientKind.BACKOFFICE, {"*"}, scopes=[Scope.MEMBERS_WRITE])
    for read in (lambda: service.get(member_id, writer_only),
                 lambda: service.find_by_phone("13812345678", writer_only),
                 lambda: service.consent_history(member_id, writer_only)):
        with pytest.raises(MissingScope):
            read()


def test_get_unknown_member(service):
    with pytest.raises(MemberNotFound):
        service.get("mbr_01JD0000000000000000000000", POS_SH)


# -- update -----------------------------------------------------------------------------------------
def test_update_publishes_changed_field_names_only(service, repo, publisher, clock):
    member_id = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    clock.current = NOW + timedelta(days=2)
    patch = MemberPatch.model_validate({"name": "Wang Fang", "email": "wang.fang@example.com",
                                        "address": {"city": "Shanghai"}})
    view = service.update(member_id, patch, POS_HZ).body()
    assert view["name"] == "Wang Fang"
    assert view["updated_at"].startswith("2026-11-20")
    assert repo.members[member_id].version == 2
    event = publisher.events[-1]
    assert event.detail_type == "MemberProfileChanged.v1"
    assert event.detail == {"member_id": member_id, "changed_fields": ["address", "email", "name"],
                            "client_id": "pos-hz-xihu", "consents": {}}
    assert "Wang Fang" not in str(event.model_dump()) and "wang.fang" not in str(event.model_dump())
    # the email claim moved with the change
    assert repo.claims[("EMAIL", "wang.fang@example.com")] == member_id
    assert ("EMAIL", "li.wei@example.com") not in repo.claims


def test_update_of_consents_keeps_history(service, publisher, clock):
    member_id = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    clock.current = NOW + timedelta(hours=1)
    patch = MemberPatch.model_validate({"consents": {"marketing": {"granted": False, "policy_version": "2026-02"}}})
    view = service.update(member_id, patch, POS_SH).body()
    assert view["consents"]["marketing"]["granted"] is False
    assert publisher.events[-1].detail["changed_fields"] == ["consents"]
    assert publisher.events[-1].detail["consents"] == {"marketing": False}
    history = service.consent_history(member_id, POS_SH).body()["items"]
    marketing = [(c["granted"], c["policy_version"]) for c in history if c["kind"] == "marketing"]
    assert marketing == [(False, "2026-02"), (True, "2026-01")]


def test_update_without_changes_writes_and_publishes_nothing(service, repo, publisher):
    member_id = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    service.update(member_id, MemberPatch.model_validate({"name": "Li Wei"}), POS_SH)
    assert repo.members[member_id].version == 1
    assert [e.detail_type for e in publisher.events] == ["MemberEnrolled.v1"]


def test_update_to_another_members_email_is_refused(service, repo):
    first = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    service.enroll(request(phone="13900001111", email="other@example.com"), POS_SH, None)
    with pytest.raises(EmailAlreadyEnrolled):
        service.update(first, MemberPatch.model_validate({"email": "other@example.com"}), POS_SH)
    assert repo.members[first].email == "li.wei@example.com"
    assert repo.claims[("EMAIL", "li.wei@example.com")] == first


def test_update_needs_members_write_scope(service):
    member_id = service.enroll(request(), POS_SH, None).member.body()["member_id"]
    reader = client("reports", ClientKind.BACKOFFICE, {"*"}, scopes=[Scope.MEMBERS_READ])
    with pytest.raises(MissingScope):
        service.update(member_id, MemberPatch.model_validate({"name": "X"}), reader)


def test_update_unknown_member(service):
    with pytest.raises(MemberNotFound):
        service.update("mbr_01JD0000000000000000000000", MemberPatch.model_validate({"name": "X"}), POS_SH)
