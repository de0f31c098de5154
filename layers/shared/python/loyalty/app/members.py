"""Enrollment, lookup and profile changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty.domain.clients import ClientIdentity, Scope
from loyalty.domain.errors import InvalidInput, MemberNotFound, StoreNotFound
from loyalty.domain.events import DomainEvent
from loyalty.domain.idempotency import IdempotencyClaim, IdempotentReplay, payload_hash
from loyalty.domain.ids import is_valid_card_number, new_card_number, new_id, new_referral_code
from loyalty.domain.members import ConsentKind, ConsentRecord, EnrollmentRequest, Member, MemberPatch
from loyalty.domain.phone import normalize_phone
from loyalty.domain.points_ports import WelcomeBonus
from loyalty.domain.ports import Clock, MemberRepository, StoreDirectory

ENROLL_IDEMPOTENCY_TTL = timedelta(days=7)


@dataclass(frozen=True)
class EnrollmentOutcome:
    member: dict
    created: bool


class MemberService:
    def __init__(
        self,
        members: MemberRepository,
        stores: StoreDirectory,
        clock: Clock,
        default_country_code: str,
        welcome_bonus: WelcomeBonus | None = None,
    ):
        self._members = members
        self._stores = stores
        self._clock = clock
        self._country = default_country_code
        self._welcome_bonus = welcome_bonus

    def enroll(self, request: EnrollmentRequest, client: ClientIdentity, idempotency_key: str | None) -> EnrollmentOutcome:
        client.require(Scope.MEMBERS_WRITE)
        client.require_store(request.store_id)
        phone = normalize_phone(request.phone, self._country)
        if self._stores.get_store(request.store_id) is None:
            raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
        referred_by = None
        if request.referral_code:
            referred_by = self._members.member_id_by_referral_code(request.referral_code.upper())
            if referred_by is None:
                raise InvalidInput("no member has this referral code", field="referral_code")

        now = self._clock.now()
        consents = {
            ConsentKind.DATA_PROCESSING: request.consents.data_processing,
        }
        if request.consents.marketing is not None:
            consents[ConsentKind.MARKETING] = request.consents.marketing
        member = Member(
            member_id=new_id("mbr"),
            card_number=new_card_number(),
            referral_code=new_referral_code(),
            phone=phone,
            name=request.name,
            email=request.email,
            gender=request.gender,
            birthday=request.birthday,
            address=request.address,
            interests=request.interests,
            enrolled_store_id=request.store_id,
            enrolled_channel=request.channel,
            enrolled_at=now,
            referred_by=referred_by,
            consents={
                kind: ConsentRecord(
                    kind=kind, granted=c.granted, policy_version=c.policy_version, recorded_at=now,
                    channel=request.channel, store_id=request.store_id, client_id=client.client_id,
                )
                for kind, c in consents.items()
            },
            updated_at=now,
        )
        response = member_view(member)
        claim = None
        if idempotency_key:
            claim = IdempotencyClaim(
                scope=f"enroll:{client.client_id}",
                key=idempotency_key,
                request_hash=payload_hash(request.model_dump(mode="json")),
                response=response,
                expires_at=int((now + ENROLL_IDEMPOTENCY_TTL).timestamp()),
            )
        enrolled_event = DomainEvent(
            detail_type="MemberEnrolled.v1",
            source="loyalty.members",
            occurred_at=now,
            detail={
                "member_id": member.member_id,
                "store_id": member.enrolled_store_id,
                "channel": member.enrolled_channel.value,
                "client_id": client.client_id,
                "referred_by": referred_by,
                "marketing_opt_in": bool(request.consents.marketing and request.consents.marketing.granted),
            },
        )
        try:
            self._members.create_member(member, claim, [enrolled_event])
        except IdempotentReplay as replay:
            enrolled = replay.response
            if self._welcome_bonus is not None:
                # completes a bonus an interrupted first attempt may have missed (granted once per member)
                self._welcome_bonus.grant_welcome_bonus(enrolled["member_id"], enrolled["enrolled_store_id"],
                                                        datetime.fromisoformat(enrolled["enrolled_at"]))
            return EnrollmentOutcome(member=enrolled, created=False)
        if self._welcome_bonus is not None:
            self._welcome_bonus.grant_welcome_bonus(member.member_id, member.enrolled_store_id, now)
        return EnrollmentOutcome(member=response, created=True)

    def get(self, member_id: str, client: ClientIdentity) -> dict:
        client.require(Scope.MEMBERS_READ)
        return member_view(self._load(member_id))

    def find_by_phone(self, phone: str, client: ClientIdentity) -> dict:
        client.require(Scope.MEMBERS_READ)
        member_id = self._members.member_id_by_phone(normalize_phone(phone, self._country))
        if member_id is None:
            raise MemberNotFound("no member has this phone number", field="phone")
        return member_view(self._load(member_id))

    def find_by_card(self, card_number: str, client: ClientIdentity) -> dict:
        client.require(Scope.MEMBERS_READ)
        card_number = card_number.replace(" ", "")
        if not is_valid_card_number(card_number):
            raise InvalidInput("card number must be 16 digits with a valid check digit", field="card_number")
        member_id = self._members.member_id_by_card(card_number)
        if member_id is None:
            raise MemberNotFound("no member has this card number", field="card_number")
        return member_view(self._load(member_id))

    def update(self, member_id: str, patch: MemberPatch, client: ClientIdentity) -> dict:
        client.require(Scope.MEMBERS_WRITE)
        before = self._load(member_id)
        now = self._clock.now()
        after, new_consents = before.apply_patch(patch, now=now, client_id=client.client_id)
        changed = before.changed_fields(after)
        if not changed:
            return member_view(before)
        changed_event = DomainEvent(
            detail_type="MemberProfileChanged.v1",
            source="loyalty.members",
            occurred_at=now,
            detail={
                "member_id": member_id,
                "changed_fields": changed,
                "client_id": client.client_id,
                "consents": {c.kind.value: c.granted for c in new_consents},
            },
        )
        self._members.update_member(before, after, new_consents, [changed_event])
        return member_view(after)

    def consent_history(self, member_id: str, client: ClientIdentity) -> list[dict]:
        client.require(Scope.MEMBERS_READ)
        self._load(member_id)
        return [c.model_dump(mode="json") for c in self._members.consent_history(member_id)]

    def _load(self, member_id: str) -> Member:
        member = self._members.get_member(member_id)
        if member is None:
            raise MemberNotFound(f"member {member_id} does not exist")
        return member


def member_view(member: Member) -> dict:
    """The member as the API shows it; `card_barcode` is what a QR code or Code 128 barcode encodes."""
    view = member.model_dump(mode="json", exclude={"version"})
    view["card_barcode"] = member.card_number
    return view
