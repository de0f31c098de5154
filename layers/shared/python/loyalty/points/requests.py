"""What clients send to earn and give back points: the request models of the points API (validated
by the resolver; the arithmetic that uses them is in earning.py)."""
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated

from pydantic import (
    AfterValidator, AwareDatetime, Field, StrictBool, StrictInt, ValidationInfo, field_validator, model_validator,
)

from loyalty.kernel.models import DecimalText, StoreId, StrictModel

Money = Annotated[DecimalText, Field(gt=0, max_digits=14, decimal_places=2)]
BusinessId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:/#]+$")]
Category = Annotated[str, Field(min_length=1, max_length=64)]


def _expressible_in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+08:00 parses but has no UTC form: hashing and dating it would fail with a 500.
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("must be a time between years 1 and 9999 in UTC") from None
    return value


OccurredAt = Annotated[AwareDatetime, AfterValidator(_expressible_in_utc)]
MAX_LINES = 200


class PurchaseChannel(str, Enum):
    POS = "pos"
    WEBSHOP = "webshop"
    APP = "app"


class PurchaseLine(StrictModel):
    sku: str = Field(min_length=1, max_length=64)
    category: Category
    quantity: StrictInt = Field(gt=0, le=100_000)
    unit_price: Money
    discounted: StrictBool = False
    new_product: StrictBool = Field(default=False, description="The till marks a product still new (launched "
                                                               "recently), for member insight")
    amount: Money = Field(description="What the member paid for the line; quantity × unit_price unless discounted")

    @field_validator("amount")
    @classmethod
    def _agrees_with_price(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        quantity, unit_price = info.data.get("quantity"), info.data.get("unit_price")
        if quantity is None or unit_price is None:
            return amount  # already reported on those fields
        list_amount = quantity * unit_price
        if info.data.get("discounted"):
            if amount > list_amount:
                raise ValueError(f"a discounted amount cannot exceed quantity × unit_price ({list_amount})")
        elif amount != list_amount:
            raise ValueError(f"amount must be quantity × unit_price ({list_amount}) unless the line is discounted")
        return amount


class PurchaseRequest(StrictModel):
    order_id: BusinessId
    store_id: StoreId
    channel: PurchaseChannel
    occurred_at: OccurredAt = Field(description="When the purchase happened (ISO 8601 with offset)")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[PurchaseLine] = Field(min_length=1, max_length=MAX_LINES)
    total: Money
    payment_method: str = Field(min_length=1, max_length=32)
    points_payment_id: BusinessId | None = Field(
        default=None, description="The captured points payment that paid part of this order: a return then gives "
                                  "those points back in proportion, and the till refunds only the rest in cash")

    @field_validator("total")
    @classmethod
    def _sum_of_lines(cls, total: Decimal, info: ValidationInfo) -> Decimal:
        lines = info.data.get("lines")
        if lines is not None and sum((line.amount for line in lines), Decimal(0)) != total:
            raise ValueError("total must equal the sum of the line amounts")
        return total


class ReturnedLine(StrictModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(gt=0, le=100_000)


class ReturnRequest(StrictModel):
    return_id: BusinessId
    order_id: BusinessId = Field(description="The original order")
    store_id: StoreId = Field(description="The store of the original purchase")
    returning_store_id: StoreId = Field(description="Where the goods come back; may differ from store_id")
    occurred_at: OccurredAt
    lines: list[ReturnedLine] | None = Field(default=None, min_length=1, max_length=MAX_LINES)
    whole_order: StrictBool = False

    @model_validator(mode="after")
    def _lines_or_whole_order(self):
        if self.whole_order == (self.lines is not None):
            raise ValueError("give either lines or whole_order: true")
        return self


class ActivityRequest(StrictModel):
    activity_id: BusinessId
    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$",
                      description="check_in, review, event_attendance, survey, feedback...")
    store_id: StoreId | None = None
    occurred_at: OccurredAt


class AdjustmentRequest(StrictModel):
    adjustment_id: BusinessId
    points: StrictInt = Field(ge=-10_000_000, le=10_000_000, description="Non-zero; negative takes points away")
    reason: str = Field(min_length=3, max_length=500)
    store_id: StoreId | None = None

    @field_validator("points")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("points must not be zero")
        return value


class PointsPaymentRequest(StrictModel):
    payment_id: BusinessId = Field(description="Chosen by the till or webshop; the payment's key for good")
    store_id: StoreId
    order_id: BusinessId
    channel: PurchaseChannel
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    order_total: Money
    points: StrictInt = Field(gt=0, le=100_000_000)
