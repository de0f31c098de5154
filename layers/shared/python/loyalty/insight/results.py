"""What the insight use cases answer; each model is the OpenAPI schema of its response."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from loyalty.kernel.models import Result


class InsightFigures(Result):
    spend_30d: Decimal = Field(description="This calendar month and the last, net of refunds")
    spend_90d: Decimal = Field(description="The last three calendar months")
    spend_365d: Decimal = Field(description="The last twelve calendar months")
    purchases_30d: int
    purchases_90d: int
    purchases_prev_90d: int = Field(description="The 90 days before the last 90")
    purchases_365d: int
    orders_total: int
    average_ticket: Decimal | None = None
    purchase_interval_days: Decimal | None = Field(default=None, description="Average days between purchases")
    discount_share: Decimal | None = Field(default=None, description="Paid on discounted lines / paid, 12 months")
    new_product_share: Decimal | None = Field(default=None, description="Paid on new products / paid, 12 months")
    days_since_last_purchase: int | None = None
    days_since_last_interaction: int | None = None
    frequency: str | None = Field(default=None, description="high (weekly: 12+ in 90 days), mid (3+), low (1+)")
    top_category: str | None = None


class ChurnRiskView(Result):
    raised_on: date
    reasons: list[str]


class InsightView(Result):
    member_id: str
    stage: str = Field(description="new, growing, mature, declining, churned or won_back")
    stage_since: date | None = None
    tags: list[str]
    churn_risk: ChurnRiskView | None = None
    home_store: str | None = None
    tier: str
    first_purchase_on: date | None = None
    last_purchase_on: date | None = None
    last_interaction_on: date | None = None
    categories: dict[str, Decimal] = Field(description="Category -> spend since the first purchase (largest 12)")
    channels: dict[str, int] = Field(description="Channel -> purchases")
    stores: dict[str, int] = Field(description="Store -> purchases (largest 12)")
    figures: InsightFigures
    next_check_on: date | None = Field(default=None, description="When the daily check looks at the member again")


class ChurnRiskEntry(Result):
    member_id: str
    store_id: str
    raised_on: date
    reasons: list[str]
    status: str = Field(description="open, contacted, voucher_sent, won_back or dismissed")
    stage: str
    note: str | None = None


class ChurnRiskPage(Result):
    store_id: str
    items: list[ChurnRiskEntry]
    next_cursor: str | None = None


class TagHistoryItem(Result):
    tag: str
    action: str = Field(description="add, remove or clear (by hand)")
    reason: str
    by: str
    at: str


class TagDecisionResult(Result):
    member_id: str
    tags: list[str] = Field(description="The member's tags now")
    manual: dict[str, str] = Field(description="Tag -> add or remove: staff's decisions in force")
    history: list[TagHistoryItem] = Field(description="The latest decisions by hand, newest first")


class CheckRun(Result):
    days: list[date]
    members: int
    changed: int
    risks_raised: int
    failed: int
    erasures_scheduled: int = Field(default=0, description="Members past the retention policy's term, handed to erasure")
