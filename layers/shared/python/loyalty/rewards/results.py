"""What the rewards use cases answer; each model is also the OpenAPI schema of its response."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from loyalty.kernel.models import DecimalText, IsoDateTime, Result
from loyalty.rewards.domain import Missing, Names, Reward, RewardKind, VoucherSource, VoucherTerms


class Balance(Result):
    available: int
    pending: int
    debt: int
    reserved: int = 0


class RewardView(Reward):
    stock_left: int | None = Field(default=None, description="Units still offered; absent when not tracked")


class RewardList(Result):
    items: list[RewardView]


class RewardOption(Result):
    reward: RewardView
    redeemable: bool
    missing: list[Missing] = Field(description="Why the member cannot redeem it now (empty when redeemable)")


class MemberRewards(Result):
    member_id: str
    tier: str
    available: int
    store_id: str | None = None
    items: list[RewardOption]


class VoucherUseView(Result):
    store_id: str
    order_id: str
    order_total: DecimalText
    discount: DecimalText
    used_at: IsoDateTime


class VoucherView(Result):
    code: str = Field(description="What the cashier types: XXXX-XXXX-XXXX")
    qr_payload: str = Field(description="What the member's QR code carries")
    member_id: str
    title: Names
    terms: VoucherTerms
    source: VoucherSource
    reward_id: str | None = None
    status: Literal["issued", "used", "voided"]
    issued_at: IsoDateTime
    valid_from: IsoDateTime
    valid_until: IsoDateTime
    use: VoucherUseView | None = None


class VoucherPage(Result):
    member_id: str
    items: list[VoucherView]
    next_cursor: str | None = None


class VoucherUseResult(Result):
    voucher: VoucherView
    discount: DecimalText = Field(description="Money off the order; 0 for a free item (the till prices it)")
    free_item_sku: str | None = None


class RedemptionResult(Result):
    redemption_id: str
    member_id: str
    reward_id: str
    reward_name: Names
    kind: RewardKind
    quantity: int
    points: int
    store_id: str
    channel: str
    status: Literal["completed", "cancelled"]
    redeemed_at: IsoDateTime
    cancelled_at: IsoDateTime | None = None
    vouchers: list[VoucherView]
    points_returned: int | None = Field(default=None, description="On a cancellation: the points given back")
    balance: Balance
    entry_ids: list[str]
