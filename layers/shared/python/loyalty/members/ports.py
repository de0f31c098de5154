"""What the member use cases need from storage and from the points capability."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.members.domain import AccessRecord, ConsentRecord, Member

if TYPE_CHECKING:  # erasure imports this module
    from loyalty.members.erasure import ErasureRecord


class MemberRepository(Protocol):
    def create_member(self, member: Member, claim: IdempotencyClaim | None, events: list[DomainEvent]) -> None:
        """Create the member with its phone, email, card and referral-code claims and its events, atomically.

        Raises PhoneAlreadyEnrolled / EmailAlreadyEnrolled, IdempotentReplay when the claim exists
        with the same request, IdempotencyKeyReused when it exists with another.
        """

    def get_member(self, member_id: str) -> Member | None: ...

    def member_id_by_phone(self, phone: str) -> str | None: ...

    def member_id_by_card(self, card_number: str) -> str | None: ...

    def member_id_by_referral_code(self, code: str) -> str | None: ...

    def update_member(self, before: Member, after: Member, new_consents: list[ConsentRecord],
                      events: list[DomainEvent]) -> None:
        """Write `after` and its events if the stored version is still `before.version`; move the email
        claim if it changed."""

    def consent_history(self, member_id: str) -> list[ConsentRecord]: ...

    def record_access(self, record: AccessRecord) -> None:
        """Keep the record of a back-office read of personal data (kept 400 days)."""

    def access_log(self, member_id: str, *, limit: int) -> list[AccessRecord]: ...

    # -- erasure (loyalty.members.erasure) ------------------------------------------------------
    def get_erasure(self, member_id: str) -> "ErasureRecord | None": ...

    def start_erasure(self, record: "ErasureRecord", before: "ErasureRecord | None") -> "ErasureRecord":
        """Put the record if there is none (or `before` is still the stored version); a concurrent start
        answers the stored record."""

    def erase_member(self, member_id: str, before: "ErasureRecord", done: "ErasureRecord",
                     events: list[DomainEvent]) -> None:
        """In one transaction: the profile replaced by a tombstone without personal data, the phone,
        email, card and referral-code claims released, the record moved from `before` to `done`, the
        events. Raises MemberErased when the profile is a tombstone already."""

    def due_erasures(self, day, now: datetime) -> list[str]:
        """Members whose scheduled erasure falls on `day` (UTC) at or before `now`."""


class WelcomeBonus(Protocol):
    """What enrollment needs from points: the welcome bonus, idempotent by member id."""

    def grant_welcome_bonus(self, member_id: str, store_id: str, occurred_at: datetime) -> Any: ...
