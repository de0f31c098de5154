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


class MemberErased(MemberEvent):
    """The member's personal data was erased; the member id stays in the books (ledger, purchases,
    settlement). Consumers holding personal data of their own remove it."""

    reason: str = Field(description="member_request, consent_withdrawn or inactivity_policy")
    requested_by: str = Field(description="The client that asked (or the member's own consent withdrawal)")


class MemberErasureScheduled(MemberEvent):
    """Data-processing consent was withdrawn: the member is erased after the grace period unless the
    consent is given again before."""

    erase_after: str


class MemberErasureCancelled(MemberEvent):
    """Data-processing consent was given again within the grace period: the erasure will not happen."""

