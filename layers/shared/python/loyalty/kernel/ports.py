"""Interfaces the use cases need. Adapters implement them; tests pass fakes in."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator, Protocol, Sequence

from loyalty.kernel.stores import Store


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    """New identifiers; RandomIds in loyalty.kernel.ids is the real one, tests pass fixed ones."""

    def new_id(self, prefix: str) -> str: ...

    def new_card_number(self) -> str: ...

    def new_referral_code(self) -> str: ...


class PublishableEvent(Protocol):
    event_id: str
    source: str
    detail_type: str
    occurred_at: datetime

    def envelope(self) -> dict: ...


class EventPublisher(Protocol):
    """Puts events on the bus. Use cases that change the table hand their events to the repository
    instead, which writes them to the outbox in the same transaction (see loyalty/platform/outbox.py)."""

    def publish(self, events: Sequence[PublishableEvent]) -> None: ...


class StoreDirectory(Protocol):
    def get_store(self, store_id: str) -> Store | None: ...



class MemberDirectory(Protocol):
    """Whether a member exists, for capabilities that take a member id from a client."""

    def member_exists(self, member_id: str) -> bool: ...


class BirthdayBook(Protocol):
    """A member's birthday for a birthday benefit: (exists, birthday or None). Erased members have none."""

    def member_birthday(self, member_id: str) -> tuple[bool, date | None]: ...


class InactivityErasure(Protocol):
    """The chain's retention policy: a member quiet for its whole term is erased (the members capability)."""

    def schedule_inactivity_erasure(self, member_id: str) -> bool:
        """Schedule the erasure (reason inactivity_policy) for the next daily run; False when the member
        is gone or an erasure is already recorded."""


class BonusPoints(Protocol):
    """Points a capability gives a member outside a purchase (the points capability implements it)."""

    def grant_birthday_bonus(self, member_id: str, points: int, year: int, store_id: str,
                             occurred_at: datetime) -> bool:
        """Once per member and year; False when this year's bonus was already given."""


class MemberDataHolder(Protocol):
    """A capability that keeps something of a member which erasure must end: personal data to remove, or
    open things to close (vouchers not yet used, points held at a till). Called by the members
    capability's erasure before it removes the profile; idempotent, so an erasure that stopped halfway
    runs it again and finds less or nothing left to do. Keeps what the books need (ledger, purchases,
    redemptions, settlement figures under the member id)."""

    holds: str  # what it ends, for the erasure record: "vouchers", "points_payments", "feedback_text"...

    def forget_member(self, member_id: str) -> int:
        """End what this capability keeps of the member; returns how many things it changed."""


class MemberDataSource(Protocol):
    """A capability's part of a member's data export (access request): what it keeps of the member,
    section by section, yielded page by page so that no history is loaded whole."""

    sections: tuple[str, ...]

    def member_records(self, member_id: str, section: str) -> Iterator[dict[str, Any]]: ...

