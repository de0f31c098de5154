"""What the KPI and reconciliation use cases answer; each model is the OpenAPI schema of its response.
docs/kpis.md defines every figure."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import ConfigDict, Field

from loyalty.kernel.models import Result


class KpiFigures(Result):
    new_members: int = Field(description="会员增长: members enrolled")
    active_members: int = Field(description="活跃会员: members with a purchase or an activity, counted once per day "
                                            "and group (summed over the days of a longer period)")
    active_members_month: int = Field(description="The same, counted once per calendar month and group")
    orders: int = Field(description="Member orders")
    items: int = Field(description="Units bought")
    spend: Decimal = Field(description="会员消费金额: what members paid, net of refunds for returns")
    refunds: Decimal = Field(description="What returned goods had cost")
    returns: int
    discount_share: Decimal | None = Field(default=None, description="Paid on discounted lines / gross spend")
    new_product_share: Decimal | None = Field(default=None, description="Paid on new products / gross spend")
    average_ticket: Decimal | None = Field(default=None, description="客单价: spend / orders")
    buyers: int = Field(description="Members with at least one order (per calendar month and group, summed)")
    purchase_frequency: Decimal | None = Field(default=None, description="消费频率: orders / buyers")
    repeat_buyers: int = Field(description="Members with at least two orders in a calendar month")
    repurchase_rate: Decimal | None = Field(default=None, description="复购率: repeat buyers / buyers")
    first_purchases: int = Field(description="Members' first purchases ever")
    predicted_lifetime_value: Decimal | None = Field(
        default=None, description="会员生命周期价值 (predicted): average ticket × yearly frequency × 3 years")
    points_issued: int
    points_redeemed: int = Field(description="Redeemed and paid at the till, less cancellations")
    points_expired: int
    points_returned: int = Field(description="Clawed back for returned goods")
    points_adjusted: int = Field(description="Back-office corrections (signed)")
    tier_upgrades: int
    tier_downgrades: int
    feedback: int
    average_rating: Decimal | None = Field(default=None, description="Satisfaction: mean rating (1-5)")
    nps: Decimal | None = Field(default=None, description="% promoters (9-10) - % detractors (0-6)")
    nps_answers: int
    resolved: int = Field(description="Feedback resolved")
    on_time_share: Decimal | None = Field(default=None, description="Resolved within the deadline / resolved")


class KpiRow(Result):
    group: str = Field(description="The store, city, channel, day (YYYY-MM-DD), month (YYYY-MM) or '*' (chain)")
    figures: KpiFigures


class ChainStanding(Result):
    """Running totals of the chain as they stand now (not per period)."""

    members: int = Field(description="Members enrolled since the start")
    lifetime_spend: Decimal = Field(description="All members' spend since the start, net of refunds")
    historic_lifetime_value: Decimal | None = Field(default=None, description="lifetime spend / members")
    points_outstanding: int = Field(description="Points members hold (available, pending and reserved, net of debt)")
    liability: Decimal = Field(description="points_outstanding at the program's cash rate")
    tiers: dict[str, int] = Field(description="Members per tier")


class CohortRow(Result):
    month: str = Field(description="The enrollment month (YYYY-MM)")
    members: int = Field(description="Members enrolled that month")
    buyers: dict[str, int] = Field(description="Later month -> members of the cohort who bought in it")
    retention: dict[str, Decimal] = Field(description="Later month -> buyers / members")


class KpiReport(Result):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)

    from_date: date = Field(alias="from", serialization_alias="from")
    to_date: date = Field(alias="to", serialization_alias="to")
    group_by: str
    store_id: str | None = None
    timezone: str
    currency: str
    generated_at: datetime
    rows: list[KpiRow]
    totals: KpiFigures = Field(description="The whole period and every store the client sees")
    standing: ChainStanding | None = Field(default=None, description="Chain-wide running totals (chain-wide keys only)")
    cohorts: list[CohortRow] | None = Field(default=None, description="Grouped by month, chain-wide: each enrollment "
                                                                      "month's members buying in each later month")

    def body(self):
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Drift(Result):
    scope: str = Field(description="member or chain")
    subject: str = Field(description="The member id, or the figure checked")
    check: str = Field(description="What was checked")
    expected: str
    actual: str


class ReconciliationResult(Result):
    day: date
    members_checked: int
    checks: int
    drifts: list[Drift]
    completed_at: datetime
    complete: bool = Field(description="False when the run stopped for time before every member was checked")


class DigestFigure(Result):
    figure: str
    this_month: str | None = None
    last_month: str | None = None
    change: str | None = Field(default=None, description="this - last")
    change_percent: str | None = None


class MonthlyDigest(Result):
    month: str
    previous_month: str
    figures: list[DigestFigure]
    created: bool = Field(description="False when the month's digest had been stored already")
