"""The loyalty program's rules: how purchases and activities earn points, and the limits around them.

Rules are configuration, kept as one versioned item and edited through the back-office API; when none
has been stored yet, DEFAULT_RULES apply (version 0)."""
from functools import cache

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictInt, field_validator, model_validator

from loyalty.kernel.models import DecimalNumber, DecimalText, StoreId, StrictModel

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Factor = Annotated[DecimalNumber, Field(ge=0, le=20, max_digits=8, decimal_places=4)]


MAX_LATE_POSTING_DAYS = 90  # the longest an offline purchase or activity may be posted late

class ExpiryPolicy(str, Enum):
    ROLLING_MONTHS = "rolling_months"  # points earned in a month expire at the end of the Nth month after it
    END_OF_NEXT_YEAR = "end_of_next_year"  # points earned any day of a year expire on 31 December of the next
    NEVER = "never"


class DebtPolicy(str, Enum):
    DEBT = "debt"  # a claw-back the balance cannot cover is recorded as debt; available never goes below 0
    NEGATIVE_BALANCE = "negative_balance"  # the available balance itself goes below 0


class Promotion(StrictModel):
    """Extra points in some stores on some local dates, e.g. double points on the 18th in Hangzhou stores.

    Every filter given must hold; empty filters match everything. Dates are the STORE's local dates."""

    promotion_id: Code
    name: str = Field(min_length=1, max_length=128)
    store_ids: list[StoreId] = Field(default_factory=list, max_length=500)
    cities: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None
    days_of_month: list[Annotated[int, Field(ge=1, le=31)]] = Field(default_factory=list, max_length=31)
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=list, max_length=7,
                                                             description="ISO weekdays, 1 = Monday")
    dates: list[date] = Field(default_factory=list, max_length=366)
    multiplier: Factor = Field(default=Decimal(1), description="Applies to the purchase's points; the best one wins")
    bonus_points: StrictInt = Field(default=0, ge=0, le=1_000_000, description="Fixed points per qualifying purchase")
    min_spend: DecimalText = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2,
                               description="Eligible spend a purchase needs to qualify")

    @model_validator(mode="after")
    def _does_something(self):
        if self.multiplier == 1 and self.bonus_points == 0:
            raise ValueError("a promotion needs a multiplier other than 1 or bonus_points")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self

    def applies(self, *, store_id: str, city: str, local_date: date) -> bool:
        if (self.store_ids or self.cities) and store_id not in self.store_ids and city not in self.cities:
            return False
        if self.starts_on and local_date < self.starts_on:
            return False
        if self.ends_on and local_date > self.ends_on:
            return False
        if self.days_of_month and local_date.day not in self.days_of_month:
            return False
        if self.weekdays and local_date.isoweekday() not in self.weekdays:
            return False
        return not self.dates or local_date in self.dates


class ActivityRule(StrictModel):
    points: StrictInt = Field(ge=0, le=1_000_000)
    daily_cap: StrictInt | None = Field(default=None, ge=1, le=1000, description="Most activities of this type per local day")
    monthly_cap: StrictInt | None = Field(default=None, ge=1, le=10_000, description="Most per local calendar month")


class ProgramRulesInput(StrictModel):
    """What the back office sends: the complete rule set, and the version it was based on."""

    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    timezone: str = Field(default="Asia/Shanghai", description="For dates without a store: activities, expiry")
    base_rate: DecimalNumber = Field(default=Decimal(1), ge=0, le=1000, max_digits=10, decimal_places=4,
                               description="Points per currency unit of eligible spend, rounded down per purchase")
    tier_multipliers: dict[Code, Factor] = Field(default_factory=lambda: {"base": Decimal(1)}, max_length=20)
    category_multipliers: dict[Code, Factor] = Field(default_factory=dict, max_length=200)
    excluded_categories: list[Code] = Field(default_factory=list, max_length=200)
    sku_bonuses: dict[Sku, Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=dict, max_length=1000, description="Fixed points per unit bought")
    promotions: list[Promotion] = Field(default_factory=list, max_length=100)
    per_purchase_cap: StrictInt | None = Field(default=None, ge=1, le=100_000_000)
    activities: dict[Code, ActivityRule] = Field(default_factory=dict, max_length=50)
    welcome_bonus: StrictInt = Field(default=0, ge=0, le=1_000_000)
    referral_bonus: StrictInt = Field(default=0, ge=0, le=1_000_000, description="To the referrer, on the referred member's first purchase")
    late_purchase_days: StrictInt = Field(default=7, ge=0, le=MAX_LATE_POSTING_DAYS,
                                    description="How late an offline purchase may be posted")
    clock_skew_minutes: StrictInt = Field(default=5, ge=0, le=60, description="How far in the future occurred_at may be")
    activation_delay_days: StrictInt = Field(default=0, ge=0, le=90, description="Return window before points are available")
    expiry_policy: ExpiryPolicy = Field(
        default=ExpiryPolicy.ROLLING_MONTHS,
        description="rolling_months: points earned in a month expire at the end of the expiry_months-th month after "
                    "it; end_of_next_year: on 31 December of the year after earning; never. Days end in `timezone`. "
                    "A change applies to points earned from then on")
    expiry_months: StrictInt | None = Field(default=24, ge=1, le=120,
                                      description="For rolling_months: how many months after the month of earning "
                                                  "points expire; null means never (any other policy stores null)")
    expiry_notice_days: StrictInt = Field(default=30, ge=0, le=180,
                                          description="PointsExpiringSoon.v1 goes out this many days before points "
                                                      "expire; 0: no notices")
    debt_policy: DebtPolicy = DebtPolicy.DEBT
    points_per_currency_unit: StrictInt = Field(
        default=100, ge=1, le=1_000_000,
        description="What points are worth when spent or settled between stores: this many points are one "
                    "currency unit (100: 100 points = 1 CNY)")
    points_payment_max_share: DecimalNumber = Field(default=Decimal("0.5"), gt=0, le=1, max_digits=5, decimal_places=4,
                                              description="The largest part of an order points may pay")
    points_payment_hold_minutes: StrictInt = Field(default=30, ge=1, le=24 * 60,
                                             description="A points reservation neither captured nor voided is released after this")
    version: StrictInt = Field(default=0, ge=0, description="The version these rules replace (optimistic check)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA time zone") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _expiry_of_older_documents(cls, data):
        """Rules stored before `expiry_policy` existed said "never" with `expiry_months: null`."""
        if isinstance(data, dict) and "expiry_policy" not in data and "expiry_months" in data \
                and data["expiry_months"] is None:
            return {**data, "expiry_policy": ExpiryPolicy.NEVER.value}
        return data

    @model_validator(mode="after")
    def _one_expiry_meaning(self):
        """`expiry_months` counts only for rolling_months, and null there still means never: the stored
        document says each policy one way."""
        if self.expiry_policy == ExpiryPolicy.ROLLING_MONTHS and self.expiry_months is None:
            self.expiry_policy = ExpiryPolicy.NEVER
        if self.expiry_policy != ExpiryPolicy.ROLLING_MONTHS:
            self.expiry_months = None
        return self

    @field_validator("tier_multipliers")
    @classmethod
    def _has_base(cls, value: dict) -> dict:
        if "base" not in value:
            raise ValueError("the base tier needs a multiplier (usually 1)")
        return value

    @model_validator(mode="after")
    def _unique_promotions(self):
        ids = [p.promotion_id for p in self.promotions]
        if len(ids) != len(set(ids)):
            raise ValueError("promotion ids must be unique")
        return self


class ProgramRules(ProgramRulesInput):
    """The stored rules; `version` is the stored version (0 for the built-in defaults)."""

    def tier_multiplier(self, tier: str) -> Decimal:
        return self.tier_multipliers.get(tier, Decimal(1))

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def cash_value(self, points: int) -> Decimal:
        """What `points` are worth in the program's currency."""
        return (Decimal(points) / Decimal(self.points_per_currency_unit)).quantize(Decimal("0.0001")).normalize()

    @property
    def points_expire(self) -> bool:
        return self.expiry_policy != ExpiryPolicy.NEVER and not (
            self.expiry_policy == ExpiryPolicy.ROLLING_MONTHS and self.expiry_months is None)

    def expiry_month(self, earned_on: date) -> str | None:
        """The month (YYYY-MM) at whose end points earned on `earned_on` (a date in the program's zone)
        expire; None when they never do."""
        if not self.points_expire:
            return None
        if self.expiry_policy == ExpiryPolicy.END_OF_NEXT_YEAR:
            return f"{earned_on.year + 1:04d}-12"
        index = earned_on.year * 12 + earned_on.month - 1 + self.expiry_months
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    def view(self) -> dict:
        return self.model_dump(mode="json")


@cache
def default_rules() -> ProgramRules:
    """The rules in force until a chain saves its own (version 0); built on first use, not at import."""
    return ProgramRules(
        currency="CNY",
        base_rate=Decimal(1),
        tier_multipliers={"base": Decimal(1), "silver": Decimal("1.25"), "gold": Decimal("1.5"), "platinum": Decimal(2)},
        excluded_categories=["gift_card", "tobacco", "deposit"],
        activities={
            "check_in": ActivityRule(points=5, daily_cap=1),
            "review": ActivityRule(points=20, daily_cap=3, monthly_cap=10),
            "event_attendance": ActivityRule(points=50, daily_cap=2),
            "survey": ActivityRule(points=30, monthly_cap=4),
            "feedback": ActivityRule(points=10, monthly_cap=5),
        },
        # Off until the program turns it on: enrollment then credits it (see PointsService.grant_welcome_bonus).
        welcome_bonus=0,
        referral_bonus=200,
        late_purchase_days=7,
        activation_delay_days=0,
        expiry_policy=ExpiryPolicy.ROLLING_MONTHS,
        expiry_months=24,
        expiry_notice_days=30,
        version=0,
    )


def __getattr__(name: str):  # DEFAULT_RULES stays importable, built when first asked for
    if name == "DEFAULT_RULES":
        return default_rules()
    raise AttributeError(name)
