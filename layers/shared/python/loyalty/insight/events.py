"""Events of member insight: ids and figures, no personal data."""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent


class InsightEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.insight"
    member_id: str


class MemberLifecycleChanged(InsightEvent):
    """A member moved to another lifecycle stage (new, growing, mature, declining, churned, won_back)."""

    from_stage: str
    to_stage: str
    on: date = Field(description="The day of the change, in the program's time zone")


class MemberChurnRisk(InsightEvent):
    """A member may be about to leave: their purchases fell by half, they went quiet for longer than their
    own usual interval, or nothing for 180 days. On the home store's churn-risk list until worked."""

    store_id: str | None = Field(description="The member's home store, whose list it lands on")
    reasons: list[str] = Field(description="purchases_halved, silent_beyond_usual_interval, no_purchase_for_180_days")
    days_since_last_purchase: int | None = None
    usual_interval_days: str | None = Field(default=None, description="Average days between purchases")
    stage: str
    win_back_voucher: bool = Field(default=False, description="A win-back voucher went into the member's wallet")
