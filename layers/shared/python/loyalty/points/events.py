"""Events of the points capability (source loyalty.points)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent

if TYPE_CHECKING:
    from loyalty.points.earning import PurchasedLine
    from loyalty.points.ports import PurchaseRecord


class PointsEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.points"
    member_id: str


class PointsEarned(PointsEvent):
    """Points credited to a member: a purchase, an activity, a welcome or referral bonus."""

    kind: str = Field(description="purchase, activity, welcome, referral, birthday")
    reference_id: str = Field(description="The order, activity or member the points are for")
    points: int
    pending: bool = Field(description="True while the points wait out the return window")
    debt_repaid: int
    store_id: str | None = None
    activity_type: str | None = None

    @classmethod
    def of(cls, at: datetime, member_id: str, kind: str, reference_id: str, store_id: str | None, points: int, *,
           pending: bool, debt_repaid: int, activity_type: str | None = None) -> "PointsEarned":
        return cls(occurred_at=at, member_id=member_id, kind=kind, reference_id=reference_id, points=points,
                   pending=pending, debt_repaid=debt_repaid, store_id=store_id, activity_type=activity_type)


class PurchaseRecorded(PointsEvent):
    """A member's purchase was recorded: what was bought, where and through which channel, in figures.
    For reporting and member insight; the points it earned are in the purchase's `PointsEarned.v1`."""

    order_id: str
    store_id: str
    channel: str = Field(description="pos, webshop or app")
    purchased_at: datetime = Field(description="When the purchase happened; occurred_at is when it was recorded")
    currency: str
    total: Decimal = Field(description="What the member paid")
    list_total: Decimal = Field(description="Sum of quantity x unit_price: the total before line discounts")
    discounted_total: Decimal = Field(description="Paid on lines sold at a discount")
    new_product_total: Decimal = Field(description="Paid on lines the till marked as new products")
    items: int = Field(description="Units bought")
    categories: dict[str, Decimal] = Field(description="Category -> paid for it")
    points: int = Field(description="Points the purchase earned")
    first_purchase: bool = Field(description="The member's first recorded purchase")
    member_since: datetime | None = Field(default=None, description="When the member enrolled: the cohort "
                                                                    "the purchase counts for")


class PointsReturned(PointsEvent):
    """Points clawed back for returned goods; what the balance could not cover became debt. The money
    side (`refund_total`, `categories`) is what the returned units had cost, for reporting."""

    return_id: str
    order_id: str
    store_id: str
    returning_store_id: str
    points: int
    debt_added: int
    points_refunded: int = Field(default=0, description="Points that paid part of the order, given back")
    channel: str | None = Field(default=None, description="The original purchase's channel")
    purchased_at: datetime | None = Field(default=None, description="When the original purchase happened")
    refund_total: Decimal | None = Field(default=None, description="What the returned units had cost")
    categories: dict[str, Decimal] | None = Field(default=None, description="Category -> returned amount")


class PointsActivated(PointsEvent):
    """A purchase's pending points became available after the return window."""

    lot_id: str
    points: int


class PointsAdjusted(PointsEvent):
    """The back office corrected a member's points."""

    adjustment_id: str
    points: int
    client_id: str


class PointsPaymentReserved(PointsEvent):
    """Points held to pay part of an order."""

    payment_id: str
    store_id: str
    order_id: str
    points: int
    cash_value: Decimal


class PointsPaymentCaptured(PointsEvent):
    """Held points paid part of an order; `origins` are the stores that issued them (for settlement)."""

    payment_id: str
    store_id: str
    order_id: str
    points: int
    cash_value: Decimal
    origins: dict[str, int]


class PointsPaymentReleased(PointsEvent):
    """Held points went back to the member: voided by the till, or expired (hold time over)."""

    payment_id: str
    store_id: str
    order_id: str
    points: int
    reason: str = Field(description="voided or expired")


class PointsExpired(PointsEvent):
    """Points whose expiry month ended left the member's available balance (one ledger entry of type
    expiry). `origins` says which earning stores' points expired, for settlement between stores."""

    points: int = Field(description="Points that expired (positive)")
    months: list[str] = Field(description="The expiry months (YYYY-MM) that ended, oldest first")
    origins: dict[str, int] = Field(description="Earning store -> points of it that expired; '*' is points "
                                                "earned outside any store")


class PointsExpiringSoon(PointsEvent):
    """A member's points expire in the coming days (the program's expiry_notice_days): one notice per
    member and expiry month, for marketing to act on."""

    month: str = Field(description="The expiry month, YYYY-MM")
    expires_on: date = Field(description="The last day the points can be used, in the program's time zone")
    points: int = Field(description="Points that expire then, as the balance stands when the notice goes out")


def purchase_recorded(at: datetime, purchase: "PurchaseRecord", *, first_purchase: bool,
                      member_since: datetime | None = None) -> PurchaseRecorded:
    """The figures of a recorded purchase, summed from its stored lines."""
    categories: dict[str, Decimal] = {}
    list_total = discounted_total = new_product_total = Decimal(0)
    for line in purchase.lines:
        categories[line.category] = categories.get(line.category, Decimal(0)) + line.amount
        list_total += line.list_amount()
        discounted_total += line.amount if line.discounted else 0
        new_product_total += line.amount if line.new_product else 0
    return PurchaseRecorded(
        occurred_at=at, member_id=purchase.member_id, order_id=purchase.order_id, store_id=purchase.store_id,
        channel=purchase.channel, purchased_at=purchase.occurred_at, currency=purchase.currency,
        total=purchase.total, list_total=list_total, discounted_total=discounted_total,
        new_product_total=new_product_total, items=sum(line.quantity for line in purchase.lines),
        categories=categories, points=purchase.points, first_purchase=first_purchase, member_since=member_since)


def returned_money(lines: "list[PurchasedLine]", returned: dict[int, int]) -> dict[str, Any]:
    """The money side of a return: what the units returned now (line index -> units returned in all,
    counting this return) had cost, in total and per category."""
    categories: dict[str, Decimal] = {}
    for index, units_now in returned.items():
        line = lines[index]
        amount = line.returned_amount(units_now - line.returned)
        categories[line.category] = categories.get(line.category, Decimal(0)) + amount
    return {"refund_total": sum(categories.values(), Decimal(0)), "categories": categories}
