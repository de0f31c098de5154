"""Enrollment, lookup and profile changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from loyalty.kernel.identity import ClientIdentity, ClientKind, Scope
from loyalty.kernel.errors import InvalidInput, MemberNotFound, StoreNotFound
from loyalty.members.events import (
    MemberEnrolled, MemberErasureCancelled, MemberErasureScheduled, MemberProfileChanged,
)
from loyalty.members.erasure import ErasureReason, ErasureRecord
from loyalty.kernel.idempotency import IdempotencyClaim, IdempotentReplay, payload_hash
from loyalty.kernel.ids import RandomIds, is_valid_card_number
from loyalty.members.domain import (
    AccessLog, AccessRecord, ConsentHistory, ConsentKind, ConsentRecord, EnrollmentRequest, Member, MemberPatch,
    MemberView,
)
from loyalty.members.phone import normalize_phone
from loyalty.members.ports import WelcomeBonus
from loyalty.kernel.ports import Clock, IdGenerator, StoreDirectory
from loyalty.members.ports import MemberRepository

ENROLL_IDEMPOTENCY_TTL = timedelta(days=7)
DEFAULT_ERASURE_GRACE_DAYS = 30  # after data-processing consent is withdrawn, before the erasure


@dataclass(frozen=True)
class EnrollmentOutcome:
    """`created` is False when `member` is the replay of an earlier request with the same key."""

    member: MemberView
    created: bool


class MemberService:
    def __init__(
        self,
        members: MemberRepository,
        stores: StoreDirectory,
        clock: Clock,
        default_country_code: str,
        welcome_bonus: WelcomeBonus | None = None,
        ids: IdGenerator | None = None,
        erasure_grace_days: int = DEFAULT_ERASURE_GRACE_DAYS,
    ):
        self._members = members
        self._stores = stores
        self._clock = clock
        self._country = default_country_code
        self._welcome_bonus = welcome_bonus
        self._ids = ids or RandomIds()
        self._erasure_grace = timedelta(days=erasure_grace_days)

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
            member_id=self._ids.new_id("mbr"),
            card_number=self._ids.new_card_number(),
            referral_code=self._ids.new_referral_code(),
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
        response = self._shown(member_view(member), client, None)  # the client sent these very data
        claim = None
        if idempotency_key:
            claim = IdempotencyClaim(
                scope=f"enroll:{client.client_id}",
                key=idempotency_key,
                request_hash=payload_hash(request.model_dump(mode="json")),
                # the member id only: a replay reads the member, so no personal data waits in the claim
                response={"member_id": member.member_id},
                expires_at=int((now + ENROLL_IDEMPOTENCY_TTL).timestamp()),
            )
        enrolled_event = MemberEnrolled(
            occurred_at=now,
            member_id=member.member_id,
            store_id=member.enrolled_store_id,
            channel=member.enrolled_channel.value,
            client_id=client.client_id,
            referred_by=referred_by,
            marketing_opt_in=bool(request.consents.marketing and request.consents.marketing.granted),
        )
        try:
            self._members.create_member(member, claim, [enrolled_event])
        except IdempotentReplay as replay:
            enrolled = self._shown(member_view(self._load(replay.response["member_id"])), client, None)
            if self._welcome_bonus is not None:
                # completes a bonus an interrupted first attempt may have missed (granted once per member)
                self._welcome_bonus.grant_welcome_bonus(enrolled.member_id, enrolled.enrolled_store_id,
                                                        enrolled.enrolled_at)
            return EnrollmentOutcome(member=enrolled, created=False)
        if self._welcome_bonus is not None:
            self._welcome_bonus.grant_welcome_bonus(member.member_id, member.enrolled_store_id, now)
        return EnrollmentOutcome(member=response, created=True)

    def get(self, member_id: str, client: ClientIdentity) -> MemberView:
        client.require(Scope.MEMBERS_READ)
        return self._shown(member_view(self._load(member_id)), client, "read")

    def find_by_phone(self, phone: str, client: ClientIdentity) -> MemberView:
        client.require(Scope.MEMBERS_READ)
        member_id = self._members.member_id_by_phone(normalize_phone(phone, self._country))
        if member_id is None:
            raise MemberNotFound("no member has this phone number", field="phone")
        return self._shown(member_view(self._load(member_id)), client, "lookup")

    def find_by_card(self, card_number: str, client: ClientIdentity) -> MemberView:
        client.require(Scope.MEMBERS_READ)
        card_number = card_number.replace(" ", "")
        if not is_valid_card_number(card_number):
            raise InvalidInput("card number must be 16 digits with a valid check digit", field="card_number")
        member_id = self._members.member_id_by_card(card_number)
        if member_id is None:
            raise MemberNotFound("no member has this card number", field="card_number")
        return self._shown(member_view(self._load(member_id)), client, "lookup")

    def update(self, member_id: str, patch: MemberPatch, client: ClientIdentity) -> MemberView:
        client.require(Scope.MEMBERS_WRITE)
        before = self._load(member_id)
        now = self._clock.now()
        after, new_consents = before.apply_patch(patch, now=now, client_id=client.client_id)
        events, erasure = self._consent_effects(before, after, new_consents, client, now)
        if erasure != (None, None):
            after = after.model_copy(update={"status": "erasure_scheduled" if erasure[1] else "active"})
        changed = before.changed_fields(after)
        if not changed:
            return self._shown(member_view(before), client, "update")
        changed_event = MemberProfileChanged(
            occurred_at=now,
            member_id=member_id,
            changed_fields=changed,
            client_id=client.client_id,
            consents={c.kind.value: c.granted for c in new_consents},
        )
        self._members.update_member(before, after, new_consents, [changed_event, *events], erasure)
        return self._shown(member_view(after), client, "update")

    def access_log(self, member_id: str, client: ClientIdentity) -> AccessLog:
        """Who in the back office saw the member's personal data, newest first (the last 100)."""
        client.require(Scope.MEMBERS_ERASE)
        return AccessLog(member_id=member_id, items=self._members.access_log(member_id, limit=100))

    def _shown(self, view: MemberView, client: ClientIdentity, action: str | None) -> MemberView:
        """Personal data in clear needs `members:pii`; a back-office client's every such read is logged
        (the till and the app serve the member in person: their reads are the service itself)."""
        if not client.may(Scope.MEMBERS_PII):
            return view.masked()
        if client.kind == ClientKind.BACKOFFICE and action is not None:
            self._members.record_access(AccessRecord(member_id=view.member_id, client_id=client.client_id,
                                                     action=action, at=self._clock.now()))
        return view

    def _consent_effects(self, before: Member, after: Member, new_consents: list[ConsentRecord],
                         client: ClientIdentity, now) -> tuple[list, tuple[ErasureRecord | None, ErasureRecord | None]]:
        """Withdrawing data-processing consent schedules the member's erasure after the grace period;
        giving it again within the period cancels it."""
        processing = [c for c in new_consents if c.kind == ConsentKind.DATA_PROCESSING]
        if not processing:
            return [], (None, None)
        granted = processing[-1].granted
        if not granted and before.status != "erasure_scheduled":
            erase_after = now + self._erasure_grace
            record = ErasureRecord(member_id=after.member_id, reason=ErasureReason.CONSENT_WITHDRAWN,
                                   requested_by=client.client_id, requested_at=now, status="scheduled",
                                   erase_after=erase_after)
            return [MemberErasureScheduled(occurred_at=now, member_id=after.member_id,
                                           erase_after=erase_after.isoformat())], (None, record)
        if granted and before.status == "erasure_scheduled":
            scheduled = ErasureRecord(member_id=after.member_id, reason=ErasureReason.CONSENT_WITHDRAWN,
                                      requested_by=client.client_id, requested_at=now, status="scheduled")
            return [MemberErasureCancelled(occurred_at=now, member_id=after.member_id)], (scheduled, None)
        return [], (None, None)

    def consent_history(self, member_id: str, client: ClientIdentity) -> ConsentHistory:
        client.require(Scope.MEMBERS_READ)
        self._load(member_id)
        return ConsentHistory(items=self._members.consent_history(member_id))

    def _load(self, member_id: str) -> Member:
        member = self._members.get_member(member_id)
        if member is None:
            raise MemberNotFound(f"member {member_id} does not exist")
        return member


def member_view(member: Member) -> MemberView:
    """The member as the API shows it; `card_barcode` is what a QR code or Code 128 barcode encodes."""
    return MemberView.model_validate({**member.model_dump(exclude={"version"}), "card_barcode": member.card_number})
