"""Rewards members spend points on, the vouchers some of them become, and the rules of both.

A reward says what it costs, where, when and for whom it can be redeemed; a voucher says where, when and
on what order it can be used. Money is Decimal, points are int."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from loyalty.kernel.models import DecimalText, StoreId, StrictModel
from loyalty.kernel.stores import Store

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
City = Annotated[str, Field(min_length=1, max_length=64)]
Money = Annotated[DecimalText, Field(ge=0, max_digits=14, decimal_places=2)]
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread
CODE_GROUPS = 3  # XXXX-XXXX-XXXX: 60 random bits, typed in a few seconds
CENT = Decimal("0.01")


class RewardKind(str, Enum):
    PHYSICAL_GIFT = "physical_gift"
    VOUCHER = "voucher"
    SERVICE = "service"  # free delivery, gift wrapping...


class DiscountKind(str, Enum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    FREE_ITEM = "free_item"


class Names(StrictModel):
    zh: str = Field(min_length=1, max_length=128)
    en: str = Field(min_length=1, max_length=128)


class VoucherTerms(StrictModel):
    """What a voucher gives and where it can be used; empty store and city lists mean every store."""

    discount: DiscountKind
    amount_off: Money | None = Field(default=None, description="amount_off: currency off the order")
    percent_off: StrictInt | None = Field(default=None, ge=1, le=90, description="percent_off: 10 means 10% off")
    free_item_sku: str | None = Field(default=None, min_length=1, max_length=64)
    min_spend: Money = Field(default=Decimal(0), description="The order total the voucher needs")
    valid_days: StrictInt = Field(default=30, ge=1, le=3650, description="Days of validity from issue")
    store_ids: list[StoreId] = Field(default_factory=list, max_length=500)
    cities: list[City] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _one_discount(self):
        given = {DiscountKind.AMOUNT_OFF: self.amount_off, DiscountKind.PERCENT_OFF: self.percent_off,
                 DiscountKind.FREE_ITEM: self.free_item_sku}
        if given[self.discount] is None:
            raise ValueError(f"a {self.discount.value} voucher needs {_FIELD[self.discount]}")
        extra = [_FIELD[kind] for kind, value in given.items() if kind != self.discount and value is not None]
        if extra:
            raise ValueError(f"a {self.discount.value} voucher takes no {', '.join(extra)}")
        if self.amount_off is not None and self.amount_off <= 0:
            raise ValueError("amount_off must be more than 0")
        return self

    def valid_at(self, store: Store) -> bool:
        return (not self.store_ids and not self.cities) or store.store_id in self.store_ids or store.city in self.cities

    def discount_on(self, order_total: Decimal) -> Decimal:
        """The money off an order of `order_total` (a free item's value is the till's to price: 0 here)."""
        if self.discount == DiscountKind.AMOUNT_OFF:
            return min(self.amount_off, order_total)
        if self.discount == DiscountKind.PERCENT_OFF:
            return (order_total * self.percent_off / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return Decimal(0)


_FIELD = {DiscountKind.AMOUNT_OFF: "amount_off", DiscountKind.PERCENT_OFF: "percent_off",
          DiscountKind.FREE_ITEM: "free_item_sku"}


class RewardInput(StrictModel):
    """A reward as the back office sends it; `version` is the version a change is based on (0: new)."""

    reward_id: Code
    name: Names
    kind: RewardKind
    description: str = Field(default="", max_length=1000)
    points_cost: StrictInt = Field(ge=1, le=10_000_000)
    stock: StrictInt | None = Field(default=None, ge=0, le=10_000_000,
                                    description="Units ever offered; null: not tracked (unlimited)")
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    tiers: list[Code] = Field(default_factory=list, max_length=20, description="Tiers that may redeem; empty: all")
    store_ids: list[StoreId] = Field(default_factory=list, max_length=500,
                                     description="Stores where it can be redeemed; with cities empty: everywhere")
    cities: list[City] = Field(default_factory=list, max_length=100)
    per_member_limit: StrictInt | None = Field(default=None, ge=1, le=1000, description="Units per member, ever")
    voucher: VoucherTerms | None = Field(default=None, description="Required for (only) voucher rewards")
    service: Code | None = Field(default=None, description="Required for service rewards, e.g. free_delivery")
    active: StrictBool = True
    version: StrictInt = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _kind_has_its_terms(self):
        if (self.kind == RewardKind.VOUCHER) != (self.voucher is not None):
            raise ValueError("voucher terms are required for voucher rewards and only for them")
        if (self.kind == RewardKind.SERVICE) != (self.service is not None):
            raise ValueError("a service code is required for service rewards and only for them")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Reward(RewardInput):
    """A stored reward; `version` is the stored version."""

    created_at: datetime
    updated_at: datetime


class Missing(BaseModel):
    """Why a member cannot redeem a reward now."""

    model_config = ConfigDict(defer_build=True)

    reason: Literal["inactive", "not_started", "ended", "tier", "store", "out_of_stock", "limit_reached",
                    "points", "in_debt"]
    message: str
    points_short: int | None = None


def missing(reward: Reward, *, tier: str, store: Store | None, now: datetime, available: int, debt: int,
            quantity: int, stock_left: int | None, redeemed: int) -> list[Missing]:
    """Every reason the member cannot redeem `quantity` units now (empty: they can)."""
    found: list[Missing] = []
    if not reward.active:
        found.append(Missing(reason="inactive", message="the reward is not offered now"))
    if reward.valid_from and now < reward.valid_from:
        found.append(Missing(reason="not_started", message=f"redeemable from {reward.valid_from.isoformat()}"))
    if reward.valid_until and now >= reward.valid_until:
        found.append(Missing(reason="ended", message=f"redeemable until {reward.valid_until.isoformat()}"))
    if reward.tiers and tier not in reward.tiers:
        found.append(Missing(reason="tier", message=f"for tiers {', '.join(reward.tiers)}; the member is {tier}"))
    if store is not None and (reward.store_ids or reward.cities) and store.store_id not in reward.store_ids \
            and store.city not in reward.cities:
        found.append(Missing(reason="store", message=f"not redeemable at {store.store_id}"))
    if stock_left is not None and stock_left < quantity:
        found.append(Missing(reason="out_of_stock", message=f"{stock_left} left"))
    if reward.per_member_limit is not None and redeemed + quantity > reward.per_member_limit:
        found.append(Missing(reason="limit_reached",
                             message=f"{reward.per_member_limit} per member; {redeemed} redeemed"))
    if debt > 0:
        found.append(Missing(reason="in_debt", message=f"the member owes {debt} points from returns"))
    needed = reward.points_cost * quantity
    if available < needed:
        found.append(Missing(reason="points", message=f"{needed} points needed, {max(available, 0)} available",
                             points_short=needed - max(available, 0)))
    return found


class VoucherSource(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: str = Field(description="redemption, tier, win_back...")
    id: str


class VoucherUse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    store_id: str
    order_id: str
    order_total: Decimal
    discount: Decimal
    used_at: datetime


class Voucher(BaseModel):
    """A voucher in a member's wallet; `version` guards every change."""

    model_config = ConfigDict(defer_build=True)

    code: str
    member_id: str
    title: Names
    terms: VoucherTerms
    source: VoucherSource
    reward_id: str | None = None
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    status: Literal["issued", "used", "voided"] = "issued"
    use: VoucherUse | None = None
    version: int = 1

    def qr_payload(self) -> str:
        return f"LOYALTY-VOUCHER:{self.member_id}:{self.code}"


def new_voucher_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalise_code(typed: str) -> str:
    """What a cashier types: any case, with or without dashes or spaces; O and I and L read as 0 and 1."""
    raw = typed.upper().replace("-", "").replace(" ", "").replace("O", "0").replace("I", "1").replace("L", "1")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def voucher_for(*, code: str, member_id: str, title: Names, terms: VoucherTerms, source: VoucherSource,
                reward_id: str | None, now: datetime) -> Voucher:
    return Voucher(code=code, member_id=member_id, title=title, terms=terms, source=source, reward_id=reward_id,
                   issued_at=now, valid_from=now, valid_until=now + timedelta(days=terms.valid_days))


class RedemptionRecord(BaseModel):
    """One redemption, in the member's partition; it also carries the redemption's idempotency claim."""

    model_config = ConfigDict(defer_build=True)

    redemption_id: str
    member_id: str
    reward_id: str
    reward_name: Names
    kind: RewardKind
    quantity: int
    points: int
    store_id: str
    channel: str
    status: Literal["completed", "cancelled"] = "completed"
    redeemed_at: datetime
    cancelled_at: datetime | None = None
    spent: dict  # kernel.spending.SpentPoints.body(): where the points came from
    voucher_codes: list[str] = Field(default_factory=list)
    stock_tracked: bool = False
    limit_counted: bool = False
    cancel_balance: dict[str, int] | None = None  # the balance after the cancel, which a repeated cancel answers
    version: int = 1
