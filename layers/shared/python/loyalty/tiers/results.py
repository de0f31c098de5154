"""What the tiers use cases answer; each model is also the OpenAPI schema of its response."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from loyalty.kernel.models import IsoDateTime, Result


class BirthdayBenefitResult(Result):
    """The tier's birthday benefit, given once per member and year in the birthday month."""

    member_id: str
    tier: str
    year: int
    bonus_points: int = Field(description="Points the benefit gives (0: none)")
    voucher_code: str | None = Field(description="The birthday voucher in the wallet, when the tier gives one")
    bonus_given_now: bool = Field(description="True when this call gave the bonus points; False when this year's "
                                              "had been given already (or the tier gives none)")


class TierChangeNote(Result):
    """A tier change an operation made (the purchase response's `tier_change`)."""

    from_tier: str
    to_tier: str
    direction: Literal["up", "down"]
    reason: str


class CriterionProgress(Result):
    criterion: str = Field(description="spend, visits, activity (monthly_spend for the monthly keep rule)")
    required: str
    current: str
    missing: str = Field(description="What is still needed; 0 when met")
    met: bool


class NextTierProgress(Result):
    tier: str
    mode: Literal["any", "all"] = Field(description="any: one criterion met is enough; all: every one")
    criteria: list[CriterionProgress]
    window_from: date
    window_to: date


class ServiceView(Result):
    code: str
    name_zh: str
    name_en: str


class VoucherView(Result):
    title_zh: str
    title_en: str
    amount_off: str
    min_spend: str
    valid_days: int


class BirthdayView(Result):
    bonus_points: int
    voucher: VoucherView | None = None


class WindowFigures(Result):
    spend: str
    visits: int
    activity: int


class BenefitsView(Result):
    member_id: str
    tier: str
    tier_name_zh: str
    tier_name_en: str
    since: date | None = None
    multiplier: str = Field(description="Points multiplier on purchases, e.g. 1.5")
    discount_rate: str = Field(description="Member price discount: 0.1 is 9折")
    services: list[ServiceView]
    birthday: BirthdayView | None = None
    monthly_voucher: VoucherView | None = Field(default=None, description="This month's voucher of the tier")
    monthly_voucher_issue_key: str | None = Field(default=None, description="Claiming it twice gives the same voucher")
    figures: WindowFigures = Field(description="The rolling window's figures")
    next_tier: NextTierProgress | None = Field(default=None, description="None at the top of the ladder")
    review_on: date | None = None
    locked_until: date | None = None
    ladder_version: int


class HistoryItem(Result):
    at: IsoDateTime
    from_tier: str
    to_tier: str
    direction: str
    reason: str
    reference_id: str | None = None
    note: str | None = None
    client_id: str | None = None


class TierHistoryPage(Result):
    member_id: str
    items: list[HistoryItem]
    next_cursor: str | None = None


class ManualTierResult(Result):
    member_id: str
    tier: str
    changed: bool
    locked_until: date | None = None


class MonthlyVoucherResult(Result):
    member_id: str
    tier: str
    code: str


class ReviewRun(Result):
    days: list[date]
    members: int = Field(description="Members read from the due index")
    changed: int
    upgraded: int
    downgraded: int
    warned: int
    unchanged: int
    failed: int
    complete: bool = Field(description="False: out of time; the next run continues (nothing is done twice)")
