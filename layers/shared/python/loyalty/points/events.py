"""Events of the points capability (source loyalty.points)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent


class PointsEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.points"
    member_id: str


class PointsEarned(PointsEvent):
    """Points credited to a member: a purchase, an activity, a welcome or referral bonus."""

    kind: str = Field(description="purchase, activity, welcome, referral")
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


class PointsReturned(PointsEvent):
    """Points clawed back for returned goods; what the balance could not cover became debt."""

    return_id: str
    order_id: str
    store_id: str
    returning_store_id: str
    points: int
    debt_added: int
    points_refunded: int = Field(default=0, description="Points that paid part of the order, given back")


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
