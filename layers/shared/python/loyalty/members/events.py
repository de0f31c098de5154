"""Events of the members capability (source loyalty.members)."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent


class MemberEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.members"
    omit_none: ClassVar[bool] = False
    member_id: str


class MemberEnrolled(MemberEvent):
    """A shopper became a member, in a store, the webshop, the app or at an event."""

    store_id: str
    channel: str
    client_id: str
    referred_by: str | None = Field(description="The referring member, when enrolled with a referral code")
    marketing_opt_in: bool


class MemberProfileChanged(MemberEvent):
    """A member's profile, interests or consents changed (names of the fields, never their values)."""

    changed_fields: list[str]
    client_id: str
    consents: dict[str, bool] = Field(description="Consents recorded by this change: kind -> granted")
