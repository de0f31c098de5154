"""Events of the rewards capability (source loyalty.rewards)."""
from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent


class RewardsEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.rewards"
    member_id: str


class RewardRedeemed(RewardsEvent):
    """A member spent points on a reward; `origins` are the stores that issued the points spent."""

    redemption_id: str
    reward_id: str
    kind: str
    quantity: int
    points: int
    store_id: str
    channel: str
    vouchers_issued: int
    origins: dict[str, int]


class RedemptionCancelled(RewardsEvent):
    """A redemption was cancelled: the points and the stock came back, its vouchers were voided."""

    redemption_id: str
    reward_id: str
    points: int
    store_id: str


class VoucherIssued(RewardsEvent):
    """A voucher went into a member's wallet other than through a redemption (a tier benefit, a win-back)."""

    source_kind: str = Field(description="tier, win_back...")
    source_id: str
    valid_until: str


class VoucherUsed(RewardsEvent):
    reward_id: str | None = None
    store_id: str
    order_id: str
    discount: Decimal


class VoucherReleased(RewardsEvent):
    """The order a voucher was used on was cancelled: the voucher can be used again."""

    store_id: str
    order_id: str


class VoucherRevoked(RewardsEvent):
    """A voucher not yet used was taken out of the wallet because the member's data was erased."""

    reason: str = Field(description="member_erased")

