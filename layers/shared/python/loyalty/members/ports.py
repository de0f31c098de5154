"""What the member use cases need from storage and from the points capability."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.members.domain import ConsentRecord, Member


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


class WelcomeBonus(Protocol):
    """What enrollment needs from points: the welcome bonus, idempotent by member id."""

    def grant_welcome_bonus(self, member_id: str, store_id: str, occurred_at: datetime) -> Any: ...
