"""What clients send to the tiers API (small: the handler imports it at cold start)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from loyalty.kernel.models import StrictModel


class BirthdayClaimRequest(StrictModel):
    """The store (or webshop, app) where the member takes their birthday benefit: the bonus points'
    origin for settlement."""

    store_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class ManualTierRequest(StrictModel):
    """Set a member's tier by hand (back office), optionally locked until a date: reviews skip the member
    until then, and the tier is reviewed the day after."""

    tier: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")]
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    lock_until: date | None = Field(default=None, description="Reviews leave the member alone through this day")
