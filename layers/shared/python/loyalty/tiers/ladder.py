"""The tier ladder: configuration the back office manages, versioned like the program rules.

Tiers are listed lowest first. Each tier above the lowest says what qualifies for it (qualifying spend,
purchase visits and activity score in the rolling window; any or all of them) and every tier what it gives
(points multiplier, member price discount, services, birthday benefit, a monthly voucher)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Annotated, Literal

from pydantic import Field, StrictInt, field_validator, model_validator

from loyalty.kernel.models import DecimalNumber, DecimalText, StrictModel

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Money = Annotated[DecimalText, Field(ge=0, le=100_000_000, max_digits=14, decimal_places=2)]


class ReviewPolicy(str, Enum):
    ANNIVERSARY = "anniversary"  # reviewed a year after the last tier change (and yearly after that)
    MONTHLY = "monthly"  # reviewed on the first day of every month


class Criteria(StrictModel):
    """What the rolling window must show; thresholds left out do not count."""

    spend: Money | None = Field(default=None, description="Qualifying spend, net of returns")
    visits: StrictInt | None = Field(default=None, ge=1, le=10_000, description="Distinct local days with a purchase")
    activity: StrictInt | None = Field(default=None, ge=1, le=1_000_000, description="Activity score")
    mode: Literal["any", "all"] = Field(default="any", description="any: one threshold met is enough; all: every one")

    @model_validator(mode="after")
    def _some_threshold(self):
        if self.spend is None and self.visits is None and self.activity is None:
            raise ValueError("criteria need at least one of spend, visits, activity")
        return self

    def thresholds(self) -> dict[str, Decimal]:
        found = {"spend": self.spend, "visits": self.visits, "activity": self.activity}
        return {name: Decimal(value) for name, value in found.items() if value is not None}


class VoucherBenefit(StrictModel):
    """A voucher issued into the member's wallet (monthly, or in the birthday month)."""

    title_zh: Name
    title_en: Name
    amount_off: Money = Field(gt=0)
    min_spend: Money = Decimal(0)
    valid_days: StrictInt = Field(default=30, ge=1, le=366)


class ServiceBenefit(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name


class BirthdayBenefit(StrictModel):
    bonus_points: StrictInt = Field(default=0, ge=0, le=1_000_000)
    voucher: VoucherBenefit | None = None

    @model_validator(mode="after")
    def _gives_something(self):
        if self.bonus_points == 0 and self.voucher is None:
            raise ValueError("a birthday benefit needs bonus_points or a voucher")
        return self


class TierDefinition(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name
    criteria: Criteria | None = Field(default=None, description="None for the lowest tier only")
    multiplier: DecimalNumber = Field(default=Decimal(1), ge=1, le=20, max_digits=6, decimal_places=4,
                                      description="Points multiplier on purchases")
    discount_rate: DecimalNumber = Field(default=Decimal(0), ge=0, lt=1, max_digits=5, decimal_places=4,
                                         description="Member price discount: 0.10 is 9折")
    services: list[ServiceBenefit] = Field(default_factory=list, max_length=20)
    birthday: BirthdayBenefit | None = None
    monthly_voucher: VoucherBenefit | None = None
    monthly_keep_spend: Money | None = Field(
        default=None, description="With the monthly review: the spend of the month before that keeps this tier")


class ThresholdPromotion(StrictModel):
    """Lower thresholds for a date range (a campaign): every spend, visits and activity threshold times `factor`."""

    promotion_id: Code
    starts_on: date
    ends_on: date
    factor: DecimalNumber = Field(gt=0, lt=1, max_digits=5, decimal_places=4)

    @model_validator(mode="after")
    def _ordered(self):
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class LadderInput(StrictModel):
    """What the back office sends: the whole ladder and the version it was based on."""

    tiers: list[TierDefinition] = Field(min_length=2, max_length=10, description="Lowest first")
    window_months: StrictInt = Field(default=12, ge=1, le=24, description="The rolling window, in calendar "
                                                                           "months including the current one")
    activity_weights: dict[Code, Annotated[StrictInt, Field(ge=0, le=1_000_000)]] = Field(default_factory=dict, max_length=50,
                                                    description="Activity type -> score per activity")
    review: ReviewPolicy = ReviewPolicy.ANNIVERSARY
    max_drop_levels: StrictInt = Field(default=1, ge=1, le=10, description="Most levels one review may drop")
    grace_days: StrictInt = Field(default=0, ge=0, le=365, description="A member failing a review keeps the "
                                                                       "tier this long and is reviewed again")
    warning_days: StrictInt = Field(default=30, ge=0, le=180, description="TierDowngradeWarning.v1 this many "
                                                                          "days before the review; 0: none")
    threshold_promotions: list[ThresholdPromotion] = Field(default_factory=list, max_length=50)
    version: StrictInt = Field(default=0, ge=0, description="The version this ladder replaces (optimistic check)")

    @field_validator("tiers")
    @classmethod
    def _a_ladder(cls, tiers: list[TierDefinition]) -> list[TierDefinition]:
        codes = [t.code for t in tiers]
        if len(set(codes)) != len(codes):
            raise ValueError("tier codes must be unique")
        if tiers[0].criteria is not None:
            raise ValueError("the lowest tier has no criteria: every member holds it")
        for lower, upper in zip(tiers, tiers[1:]):
            if upper.criteria is None:
                raise ValueError(f"tier {upper.code} needs criteria")
            if lower.criteria is None:
                continue
            for name, value in upper.criteria.thresholds().items():
                below = lower.criteria.thresholds().get(name)
                if below is not None and value <= below:
                    raise ValueError(f"tier {upper.code}: its {name} threshold must be above {lower.code}'s")
        return tiers

    @field_validator("threshold_promotions")
    @classmethod
    def _unique_promotions(cls, promotions: list[ThresholdPromotion]) -> list[ThresholdPromotion]:
        ids = [p.promotion_id for p in promotions]
        if len(set(ids)) != len(ids):
            raise ValueError("promotion ids must be unique")
        return promotions


class Ladder(LadderInput):
    """The stored ladder; `version` is the stored version (0 for the built-in default)."""

    @property
    def lowest(self) -> str:
        return self.tiers[0].code

    def level(self, code: str) -> int:
        """The tier's place, 0 the lowest; a tier the ladder no longer has counts as the lowest."""
        return next((i for i, t in enumerate(self.tiers) if t.code == code), 0)

    def tier(self, code: str) -> TierDefinition:
        return self.tiers[self.level(code)]

    def threshold_factor(self, day: date) -> Decimal:
        factors = [p.factor for p in self.threshold_promotions if p.starts_on <= day <= p.ends_on]
        return min(factors, default=Decimal(1))

    def view(self) -> dict:
        return self.model_dump(mode="json")


def _voucher(zh: str, en: str, amount: str, min_spend: str) -> VoucherBenefit:
    return VoucherBenefit(title_zh=zh, title_en=en, amount_off=Decimal(amount), min_spend=Decimal(min_spend))


@cache
def default_ladder() -> Ladder:
    """The chains' own example (version 0, until a chain saves its own)."""
    birthday = BirthdayBenefit(bonus_points=200)
    return Ladder(
        tiers=[
            TierDefinition(code="base", name_zh="普通会员", name_en="Basic", birthday=birthday),
            TierDefinition(code="bronze", name_zh="铜牌会员", name_en="Bronze",
                           criteria=Criteria(spend=Decimal(1000), visits=12, mode="any"),
                           discount_rate=Decimal("0.10"), birthday=birthday),
            TierDefinition(code="silver", name_zh="银牌会员", name_en="Silver",
                           criteria=Criteria(spend=Decimal(3000), visits=24, mode="any"),
                           multiplier=Decimal("1.5"), discount_rate=Decimal("0.15"),
                           services=[ServiceBenefit(code="gift_wrapping", name_zh="免费礼品包装",
                                                    name_en="Free gift wrapping")],
                           birthday=BirthdayBenefit(bonus_points=500),
                           monthly_voucher=_voucher("银牌月度券 满200减20", "Silver monthly: 20 off 200", "20", "200")),
            TierDefinition(code="gold", name_zh="金牌会员", name_en="Gold",
                           criteria=Criteria(spend=Decimal(5000), visits=48, mode="any"),
                           multiplier=Decimal(2), discount_rate=Decimal("0.20"),
                           services=[ServiceBenefit(code="gift_wrapping", name_zh="免费礼品包装",
                                                    name_en="Free gift wrapping"),
                                     ServiceBenefit(code="home_delivery", name_zh="免费送货上门",
                                                    name_en="Free home delivery"),
                                     ServiceBenefit(code="service_line", name_zh="专属客服热线",
                                                    name_en="Dedicated service line")],
                           birthday=BirthdayBenefit(bonus_points=1000,
                                                    voucher=_voucher("金牌生日券 满300减50", "Gold birthday: 50 off 300",
                                                                     "50", "300")),
                           monthly_voucher=_voucher("金牌月度券 满200减30", "Gold monthly: 30 off 200", "30", "200"),
                           monthly_keep_spend=Decimal(800)),
        ],
        window_months=12,
        activity_weights={"feedback": 5, "event_attendance": 20, "check_in": 1, "review": 5, "survey": 3,
                          "referral": 50},
        review=ReviewPolicy.ANNIVERSARY,
        max_drop_levels=1,
        grace_days=0,
        warning_days=30,
        version=0,
    )
