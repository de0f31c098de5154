"""Events of the tiers capability (source loyalty.tiers)."""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.events import DomainEvent


class TierEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.tiers"
    member_id: str


class TierChanged(TierEvent):
    """A member moved to another tier: an upgrade by a purchase or activity, a return undoing one, a
    review, a lock ending or a change by hand."""

    from_tier: str
    to_tier: str
    direction: str = Field(description="up or down")
    reason: str = Field(description="purchase, return, activity, review, lock_expiry or manual")
    reference_id: str | None = Field(default=None, description="The order, return or activity that moved it")


class CriterionGap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    criterion: str = Field(description="spend, visits, activity or monthly_spend")
    required: str
    current: str
    missing: str
    met: bool


class TierDowngradeWarning(TierEvent):
    """The member's figures would not keep the tier at its coming review: what is still needed."""

    tier: str
    review_on: date
    needs: list[CriterionGap]
