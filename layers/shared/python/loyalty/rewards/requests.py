"""What POS, webshop and back office send to the rewards capability."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from loyalty.kernel.models import StoreId, StrictModel
from loyalty.rewards.domain import Money

BusinessId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:/#]+$")]
MemberId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]
MAX_QUANTITY = 10  # units per redemption: each voucher is an item of the one transaction


class RedemptionRequest(StrictModel):
    redemption_id: BusinessId = Field(description="Chosen by the client; the redemption's key for good")
    reward_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")
    store_id: StoreId
    channel: str = Field(pattern=r"^(pos|webshop|app)$")
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)


class VoucherUseRequest(StrictModel):
    member_id: MemberId
    store_id: StoreId
    order_id: BusinessId
    order_total: Money = Field(description="The order's total before the voucher, in the program's currency")


class VoucherReleaseRequest(StrictModel):
    member_id: MemberId
    store_id: StoreId
    order_id: BusinessId
