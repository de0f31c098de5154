"""What the points use cases answer: each model is also the OpenAPI schema of its response, and what a
replay of the same request answers (stored with the operation's idempotency claim)."""
from datetime import date
from typing import Literal

from pydantic import Field

from loyalty.kernel.models import DecimalText, IsoDateTime, Result
from loyalty.points.entries import LedgerEntry


class BalanceSummary(Result):
    available: int = Field(description="Points the member can spend now")
    pending: int = Field(description="Points waiting out the return window")
    debt: int = Field(description="Points owed after returns the balance could not cover; repaid first")
    reserved: int = Field(default=0, description="Points held for points payments not yet captured or voided")


class ExpiringPoints(Result):
    month: str = Field(description="The expiry month, YYYY-MM")
    expires_on: date = Field(description="Its last day, in the program's time zone: the points are gone the day after")
    points: int


class PointsView(BalanceSummary):
    member_id: str
    lifetime_earned: int
    expiring: list[ExpiringPoints] = Field(
        description="What expires next, soonest first: points per month for the next (at most 6) month-ends "
                    "that hold any. Spending takes the soonest-expiring points first")
    updated_at: IsoDateTime | None = None


class LinePoints(Result):
    sku: str
    quantity: int
    points: int


class Multiplier(Result):
    kind: Literal["category", "tier", "promotion"]
    factor: str = Field(description="Decimal factor, e.g. 1.5")
    points: int = Field(description="Whole points this step adds")
    category: str | None = None
    tier: str | None = None
    promotion_id: str | None = None


class Bonus(Result):
    kind: Literal["sku", "promotion"]
    points: int
    sku: str | None = None
    points_per_unit: int | None = None
    quantity: int | None = None
    promotion_id: str | None = None


class PointsBreakdown(Result):
    eligible_spend: str
    excluded_spend: str
    base_rate: str
    base: int
    multipliers: list[Multiplier]
    bonuses: list[Bonus]
    subtotal: int
    cap_applied: bool
    cap_points_removed: int
    local_date: str


class TierChange(Result):
    """The member's tier moved with this operation."""

    from_tier: str
    to_tier: str
    direction: Literal["up", "down"]
    reason: str


class PurchaseResult(Result):
    member_id: str
    order_id: str
    store_id: str
    occurred_at: IsoDateTime
    points: int
    status: Literal["pending", "available"]
    activates_at: IsoDateTime | None = Field(default=None, description="When pending points become available")
    breakdown: PointsBreakdown
    lines: list[LinePoints]
    debt_repaid: int
    first_purchase: bool
    rules_version: int
    balance: BalanceSummary
    entry_ids: list[str]
    tier_change: TierChange | None = Field(default=None, description="Present when this purchase moved the tier")


class ReturnResult(Result):
    member_id: str
    return_id: str
    order_id: str
    store_id: str
    returning_store_id: str
    occurred_at: IsoDateTime
    points: int = Field(description="Points clawed back")
    from_pending: int
    from_available: int
    debt_added: int
    points_refunded: int = Field(default=0, description="Points that paid part of the order, given back in "
                                                        "proportion to what was returned (not refunded in cash)")
    lines: list[LinePoints]
    balance: BalanceSummary
    entry_ids: list[str]
    tier_change: TierChange | None = Field(default=None, description="Present when this return took back an upgrade")


class ActivityResult(Result):
    member_id: str
    activity_id: str
    type: str
    store_id: str | None = None
    occurred_at: IsoDateTime
    local_date: str
    points: int
    debt_repaid: int
    balance: BalanceSummary
    entry_ids: list[str]
    tier_change: TierChange | None = Field(default=None, description="Present when this activity moved the tier")


class BonusResult(Result):
    member_id: str
    type: str
    points: int
    debt_repaid: int
    balance: BalanceSummary
    entry_ids: list[str]


class AdjustmentResult(Result):
    member_id: str
    adjustment_id: str
    points: int
    reason: str
    client_id: str
    debt_repaid: int
    balance: BalanceSummary
    entry_ids: list[str]


class LedgerPage(Result):
    member_id: str
    items: list[LedgerEntry]
    next_cursor: str | None = Field(default=None, description="Pass back as cursor for the next page")


class ActivationRun(Result):
    activated: int
    skipped: int
    failed: int
    complete: bool


class MemberExpiry(Result):
    """What the expiry job did for one member."""

    member_id: str
    expired: int = Field(description="Points that expired")
    months: list[str] = Field(description="The expiry months that ended")
    announced: list[str] = Field(description="Expiry months announced (PointsExpiringSoon.v1)")
    expiry_check_on: date | None = Field(description="The day the job next has work for this member")
    balance: BalanceSummary


class ExpiryDispatch(Result):
    days: list[date] = Field(description="The days whose partitions were handed to the workers")
    tasks: int


class ExpiryRun(Result):
    day: date
    shard: int
    members: int = Field(description="Balances read from the partition")
    expired_members: int
    expired_points: int
    notices: int
    unchanged: int = Field(description="Nothing to do (already done, or moved on since the index was read)")
    failed: int = Field(description="Members whose balance kept changing underneath: the task runs again")
    continued: bool = Field(description="Out of time: the rest of the partition was handed to another task")
    incomplete: bool = Field(default=False, description="Stopped without handing the rest on: the task runs again")


class PointsPaymentResult(Result):
    payment_id: str
    member_id: str
    store_id: str
    order_id: str
    status: Literal["reserved", "captured", "voided", "expired"]
    points: int
    cash_value: DecimalText = Field(description="What the points pay, in the order's currency")
    currency: str
    held_until: IsoDateTime = Field(description="Released by the sweep if neither captured nor voided by then")
    balance: BalanceSummary
    entry_ids: list[str]
