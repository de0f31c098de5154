"""Interfaces the use cases need. Adapters implement them; tests pass fakes in."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from loyalty.domain.clients import ApiKeyRecord
from loyalty.domain.events import DomainEvent
from loyalty.domain.idempotency import IdempotencyClaim
from loyalty.domain.members import ConsentRecord, Member, Store


class Clock(Protocol):
    def now(self) -> datetime: ...


class EventPublisher(Protocol):
    """Puts events on the bus. Use cases that change the table hand their events to the repository
    instead, which writes them to the outbox in the same transaction (see adapters/outbox.py)."""

    def publish(self, events: list[DomainEvent]) -> None: ...


class StoreDirectory(Protocol):
    def get_store(self, store_id: str) -> Store | None: ...


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


class ApiKeyRepository(Protocol):
    def put_key(self, record: ApiKeyRecord) -> None: ...

    def get_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_key(self, key_id: str, at: datetime) -> bool: ...
