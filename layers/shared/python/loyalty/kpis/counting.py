"""What one event of the bus adds to the daily KPI aggregates (docs/kpis.md defines every figure).

An event counts on the program's local day it happened, in four groups at once: its store, the store's
city, its channel and the chain. Plain figures (orders, spend, points...) add to every group's row.
Distinct-member figures (active members, members who bought, members who bought again) depend on what
the member did before in the same day or month, which the adapter keeps on one small item per member and
month (`MemberMonth`): the marks of the groups the member was already counted in, and their order
counts. `contribution` reads that item and says what to add and how the item changes; the adapter writes
both in one transaction conditioned on the item as read, so duplicates and any delivery order give the
same figures.

Figures that are not per day (points outstanding, the tier distribution, lifetime spend) are running
totals on a few sharded items (`totals`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

CHAIN = "*"
DIMENSIONS = ("store", "city", "channel", "chain")

# Every counter a daily row can hold; Decimal ones are money, the rest integers.
MONEY_COUNTERS = frozenset({"spend", "refunds", "discounted_spend", "new_product_spend", "list_spend"})
COUNTERS = (
    "new_members", "orders", "items", "spend", "refunds", "list_spend", "discounted_spend", "new_product_spend",
    "returns", "active_members", "active_members_month", "buyers_month", "repeat_buyers_month", "first_purchases",
    "points_issued", "points_redeemed", "points_expired", "points_returned", "points_adjusted", "points_added_by_hand",
    "tier_upgrades", "tier_downgrades",
    "feedback", "ratings", "rating_sum", "nps_answers", "nps_promoters", "nps_detractors", "resolved",
    "resolved_on_time",
)
# Events that change a member's points: the reconciliation proves those members' books for the day.
POINTS_EVENTS = frozenset({
    "PointsEarned.v1", "PointsReturned.v1", "PointsAdjusted.v1", "PointsExpired.v1", "RewardRedeemed.v1",
    "RedemptionCancelled.v1", "PointsPaymentCaptured.v1",
})


class MemberMonth(BaseModel):
    """What the KPIs remember of one member in one month: the groups they were counted active in (by day
    and for the month) and how many orders they made in each group. Bounded by the month's days times the
    groups the member used, whatever the history."""

    model_config = ConfigDict(extra="ignore")

    marks: set[str] = Field(default_factory=set)  # "<day>|<dim>:<value>" and "m|<dim>:<value>"
    orders: dict[str, int] = Field(default_factory=dict)  # "<dim>:<value>" -> orders this month
    version: int = 0


@dataclass
class Contribution:
    """What an event adds: day -> (dimension, value) -> counter -> delta; the member-month item after it
    (None: the event does not touch it); running totals to add; the member whose points changed."""

    day: date
    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    member_month: MemberMonth | None = None
    totals: dict[str, Any] = field(default_factory=dict)
    points_member: str | None = None
    cohort: tuple[str, str] | None = None  # (enrollment month, purchase month): the member's first order that month

    def add(self, groups: list[tuple[str, str]], counter: str, delta: Any) -> None:
        if not delta:
            return
        for group in groups:
            row = self.rows.setdefault(group, {})
            row[counter] = row.get(counter, 0) + delta

    def is_empty(self) -> bool:
        return not self.rows and not self.totals and self.member_month is None and self.cohort is None


def local_day(moment: datetime | str, zone: ZoneInfo) -> date:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(zone).date()


def event_day(detail_type: str, detail: Mapping[str, Any], zone: ZoneInfo) -> date:
    """The program's local day an event counts on: a purchase's own time (a till may post it late), any
    other event's (a return counts on the day of the return)."""
    at = detail["purchased_at"] if detail_type == "PurchaseRecorded.v1" else detail["occurred_at"]
    return local_day(at, zone)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def groups_of(store_id: str | None, channel: str | None, city_of: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """The rows an event counts in: its store, the store's city, its channel, and always the chain."""
    groups: list[tuple[str, str]] = []
    if store_id:
        groups.append(("store", store_id))
        city = city_of(store_id)
        if city:
            groups.append(("city", city))
    if channel:
        groups.append(("channel", channel))
    groups.append(("chain", CHAIN))
    return groups


def needs_member_month(detail_type: str, detail: Mapping[str, Any]) -> bool:
    """Whether the event counts distinct members (and so needs the member's month read first)."""
    return detail_type == "PurchaseRecorded.v1" or (
        detail_type == "PointsEarned.v1" and detail.get("kind") == "activity")


def contribution(detail_type: str, detail: Mapping[str, Any], *, zone: ZoneInfo,
                 city_of: Callable[[str], str | None], member_month: MemberMonth | None = None) -> Contribution:
    """What one event adds to the aggregates. `member_month` is the member's item for the month of the
    event (empty if none yet), needed when `needs_member_month` says so. Unknown types add nothing."""
    day = event_day(detail_type, detail, zone)
    result = Contribution(day=day)
    store, channel = detail.get("store_id"), detail.get("channel")
    groups = groups_of(store, channel, city_of)
    if detail_type in POINTS_EVENTS:
        result.points_member = detail.get("member_id")

    if detail_type == "MemberEnrolled.v1":
        result.add(groups, "new_members", 1)
        result.totals.update({"members": 1, "tier:base": 1})
    elif detail_type == "PurchaseRecorded.v1":
        total = Decimal(str(detail["total"]))
        result.add(groups, "orders", 1)
        result.add(groups, "items", int(detail.get("items", 0)))
        result.add(groups, "spend", total)
        result.add(groups, "list_spend", Decimal(str(detail.get("list_total", total))))
        result.add(groups, "discounted_spend", Decimal(str(detail.get("discounted_total", 0))))
        result.add(groups, "new_product_spend", Decimal(str(detail.get("new_product_total", 0))))
        if detail.get("first_purchase"):
            result.add(groups, "first_purchases", 1)
        result.totals["spend"] = total
        result.member_month = _distinct(result, groups, day, member_month or MemberMonth(), ordered=True)
        if detail.get("member_since") and result.rows.get(("chain", CHAIN), {}).get("buyers_month"):
            result.cohort = (month_of(local_day(detail["member_since"], zone)), month_of(day))
    elif detail_type == "PointsReturned.v1":
        refund = Decimal(str(detail.get("refund_total") or 0))
        result.add(groups, "returns", 1)
        result.add(groups, "refunds", refund)
        result.add(groups, "spend", -refund)
        result.add(groups, "points_returned", int(detail["points"]))
        result.add(groups, "points_redeemed", -int(detail.get("points_refunded", 0)))  # points that paid, given back
        # The balance lost what the points clawed back minus what became debt, and got back the points
        # that had paid part of the order.
        result.totals.update({"spend": -refund, "outstanding": -int(detail["points"]) + int(detail.get("debt_added", 0))
                              + int(detail.get("points_refunded", 0))})
    elif detail_type == "PointsEarned.v1":
        result.add(groups, "points_issued", int(detail["points"]))
        result.totals["outstanding"] = int(detail["points"]) - int(detail.get("debt_repaid", 0))
        if detail.get("kind") == "activity":
            result.member_month = _distinct(result, groups, day, member_month or MemberMonth(), ordered=False)
    elif detail_type == "PointsAdjusted.v1":
        result.add(groups, "points_adjusted", int(detail["points"]))
        result.add(groups, "points_added_by_hand", max(int(detail["points"]), 0))  # settlement counts these as issued
        result.totals["outstanding"] = int(detail["points"])
    elif detail_type == "PointsExpired.v1":
        # At the stores that issued the points: each store's part counts in its own rows.
        for origin, points in sorted((detail.get("origins") or {CHAIN: detail["points"]}).items()):
            origin_groups = groups_of(None if origin == CHAIN else origin, None, city_of)
            result.add(origin_groups if origin != CHAIN else [("chain", CHAIN)], "points_expired", int(points))
        result.totals["outstanding"] = -int(detail["points"])
    elif detail_type in ("RewardRedeemed.v1", "PointsPaymentCaptured.v1"):
        result.add(groups, "points_redeemed", int(detail["points"]))
        result.totals["outstanding"] = -int(detail["points"])
    elif detail_type == "RedemptionCancelled.v1":
        result.add(groups, "points_redeemed", -int(detail["points"]))
        result.totals["outstanding"] = int(detail["points"])
    elif detail_type == "TierChanged.v1":
        result.add(groups, "tier_upgrades" if detail["direction"] == "up" else "tier_downgrades", 1)
        result.totals.update({f"tier:{detail['from_tier']}": -1, f"tier:{detail['to_tier']}": 1})
    elif detail_type == "FeedbackReceived.v1":
        result.add(groups, "feedback", 1)
        if detail.get("rating") is not None:
            result.add(groups, "ratings", 1)
            result.add(groups, "rating_sum", int(detail["rating"]))
        if detail.get("nps") is not None:
            nps = int(detail["nps"])
            result.add(groups, "nps_answers", 1)
            result.add(groups, "nps_promoters", 1 if nps >= 9 else 0)
            result.add(groups, "nps_detractors", 1 if nps <= 6 else 0)
    elif detail_type == "FeedbackResolved.v1":
        result.add(groups, "resolved", 1)
        result.add(groups, "resolved_on_time", 1 if detail.get("resolved_on_time") else 0)
    result.totals = {k: v for k, v in result.totals.items() if v}
    return result


def _distinct(result: Contribution, groups: list[tuple[str, str]], day: date, before: MemberMonth, *,
              ordered: bool) -> MemberMonth | None:
    """Active today and this month in each group, and (for an order) the first and second order of the
    month in each group; returns the member's month after the event, or None if nothing changed."""
    after = before.model_copy(deep=True)
    for dimension, value in groups:
        group = f"{dimension}:{value}"
        for mark, counter in ((f"{day.isoformat()}|{group}", "active_members"), (f"m|{group}", "active_members_month")):
            if mark not in after.marks:
                after.marks.add(mark)
                result.add([(dimension, value)], counter, 1)
        if ordered:
            count = after.orders.get(group, 0) + 1
            after.orders[group] = count
            if count == 1:
                result.add([(dimension, value)], "buyers_month", 1)
            elif count == 2:
                result.add([(dimension, value)], "repeat_buyers_month", 1)
    return after if after != before else None
