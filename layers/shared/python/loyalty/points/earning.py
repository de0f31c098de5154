"""Earning points on purchases and clawing them back on returns: the arithmetic (the requests it
works on are in requests.py).

All arithmetic is Decimal; points are int and rounded DOWN once per purchase. Each purchase line keeps
the points it earned, so a return claws back exactly what that line earned, unit by unit."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from loyalty.points.errors import OccurredInFuture, ReturnExceedsPurchase, SubmittedTooLate
from loyalty.points.requests import PurchaseLine, ReturnRequest

if TYPE_CHECKING:
    from loyalty.points.program import ProgramRules


# -- time rules ---------------------------------------------------------------------------------------
def check_occurred_at(occurred_at: datetime, now: datetime, rules: "ProgramRules", *, what: str = "purchase",
                      check_late: bool = True) -> None:
    if occurred_at - now > timedelta(minutes=rules.clock_skew_minutes):
        raise OccurredInFuture(f"the {what} cannot have happened in the future", field="occurred_at")
    if check_late and now - occurred_at > timedelta(days=rules.late_purchase_days):
        raise SubmittedTooLate(
            f"the {what} happened more than {rules.late_purchase_days} days ago and can no longer earn points",
            field="occurred_at", details={"late_purchase_days": rules.late_purchase_days},
        )


def store_local_date(occurred_at: datetime, store_timezone: str) -> date:
    """The calendar date at the store when it happened: promotions and daily caps go by it, not by UTC."""
    return occurred_at.astimezone(ZoneInfo(store_timezone)).date()


def floor_points(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def allocate(total: int, weights: list[Decimal]) -> list[int]:
    """Split `total` over weights proportionally in whole points (largest remainder), summing exactly."""
    weight_sum = sum(weights, Decimal(0))
    if total == 0 or weight_sum <= 0:
        return [0] * len(weights)
    quotas = [Decimal(total) * w / weight_sum for w in weights]
    shares = [floor_points(q) for q in quotas]
    leftover = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for index in by_remainder[:leftover]:
        shares[index] += 1
    return shares


# -- earning ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Earning:
    points: int
    line_points: list[int]
    breakdown: dict


def _factor_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def calculate_purchase_points(rules: "ProgramRules", lines: list[PurchaseLine], *, tier: str, store_id: str,
                              city: str, local_date: date, tier_factor: Decimal | None = None) -> Earning:
    """Points for a purchase, with the breakdown the member sees and each line's share.

    Order: base (eligible spend × base rate), category multipliers, tier multiplier, the best promotion
    multiplier; each step shows the whole points it adds. Rounding down happens on the purchase total,
    once. Then SKU bonuses and promotion bonus points; then the per-purchase cap. `tier_factor` is the
    multiplier of the tier held (the ladder's); without it the rules' `tier_multipliers` apply."""
    excluded = set(rules.excluded_categories)
    eligible = [line.category not in excluded for line in lines]
    eligible_spend = sum((line.amount for line, ok in zip(lines, eligible) if ok), Decimal(0))
    excluded_spend = sum((line.amount for line, ok in zip(lines, eligible) if not ok), Decimal(0))

    raw = [line.amount * rules.base_rate if ok else Decimal(0) for line, ok in zip(lines, eligible)]
    base = floor_points(sum(raw, Decimal(0)))
    multipliers: list[dict] = []

    def multiply(applies, factor: Decimal, entry: dict) -> None:
        nonlocal raw
        before = floor_points(sum(raw, Decimal(0)))
        raw = [r * factor if applies(i) else r for i, r in enumerate(raw)]
        multipliers.append({**entry, "factor": _factor_text(factor),
                            "points": floor_points(sum(raw, Decimal(0))) - before})

    for category in sorted(rules.category_multipliers):
        factor = rules.category_multipliers[category]
        if factor != 1 and any(ok and line.category == category for line, ok in zip(lines, eligible)):
            multiply(lambda i, c=category: lines[i].category == c, factor, {"kind": "category", "category": category})
    tier_factor = rules.tier_multiplier(tier) if tier_factor is None else tier_factor
    if tier_factor != 1 and eligible_spend > 0:
        multiply(lambda i: True, tier_factor, {"kind": "tier", "tier": tier})

    promotions = [p for p in rules.promotions
                  if eligible_spend > 0 and eligible_spend >= p.min_spend
                  and p.applies(store_id=store_id, city=city, local_date=local_date)]
    best = max((p for p in promotions if p.multiplier != 1), key=lambda p: p.multiplier, default=None)
    if best is not None:
        multiply(lambda i: True, best.multiplier, {"kind": "promotion", "promotion_id": best.promotion_id})
    multiplied = floor_points(sum(raw, Decimal(0)))

    bonuses: list[dict] = []
    sku_points = [0] * len(lines)
    for i, (line, ok) in enumerate(zip(lines, eligible)):
        per_unit = rules.sku_bonuses.get(line.sku)
        if ok and per_unit:
            sku_points[i] = per_unit * line.quantity
            bonuses.append({"kind": "sku", "sku": line.sku, "points_per_unit": per_unit,
                            "quantity": line.quantity, "points": sku_points[i]})
    for promotion in promotions:
        if promotion.bonus_points:
            bonuses.append({"kind": "promotion", "promotion_id": promotion.promotion_id,
                            "points": promotion.bonus_points})

    subtotal = multiplied + sum(b["points"] for b in bonuses)
    points = subtotal
    if rules.per_purchase_cap is not None and subtotal > rules.per_purchase_cap:
        points = rules.per_purchase_cap

    weights = [r + s for r, s in zip(raw, sku_points)]
    if sum(weights, Decimal(0)) <= 0:
        weights = [line.amount if ok else Decimal(0) for line, ok in zip(lines, eligible)]
    breakdown = {
        "eligible_spend": str(eligible_spend),
        "excluded_spend": str(excluded_spend),
        "base_rate": _factor_text(rules.base_rate),
        "base": base,
        "multipliers": multipliers,
        "bonuses": bonuses,
        "subtotal": subtotal,
        "cap_applied": points < subtotal,
        "cap_points_removed": subtotal - points,
        "local_date": local_date.isoformat(),
    }
    return Earning(points=points, line_points=allocate(points, weights), breakdown=breakdown)


def purchase_lot_id(store_id: str, order_id: str) -> str:
    """The pending lot of a purchase (one per purchase, while its points wait out the return window)."""
    return f"P#{store_id}#{order_id}"


# -- returns ------------------------------------------------------------------------------------------
class PurchasedLine(BaseModel):
    """A purchase line as stored for returns: what it earned and how much has come back."""

    model_config = ConfigDict(defer_build=True)

    sku: str
    category: str
    quantity: int
    amount: Decimal
    points: int
    returned: int = 0
    # Kept for insight, compactly (the record is billed by the kilobyte): the unit price only where the
    # line was discounted (otherwise it is amount / quantity), the flags only when set.
    unit_price: Decimal | None = None
    discounted: bool = Field(default=False, exclude_if=lambda flag: not flag)
    new_product: bool = Field(default=False, exclude_if=lambda flag: not flag)

    def list_amount(self) -> Decimal:
        """Quantity × unit price: what the line cost before any line discount."""
        return self.quantity * self.unit_price if self.unit_price is not None else self.amount

    def returned_amount(self, units: int) -> Decimal:
        """What `units` of this line had cost the member, to the cent."""
        return (self.amount * units / self.quantity).quantize(Decimal("0.01"))

    def clawed_back(self, returned: int | None = None) -> int:
        """Points clawed back once `returned` units are back; the last unit takes the remainder."""
        units = self.returned if returned is None else returned
        return self.points * units // self.quantity


@dataclass
class ReturnPlan:
    points: int
    returned: dict[int, int] = field(default_factory=dict)  # line index -> units now returned
    lines: list[dict] = field(default_factory=list)


def plan_return(purchased: list[PurchasedLine], request: ReturnRequest) -> ReturnPlan:
    """Which units come back from which purchase lines and the points that costs.

    Returned SKUs are matched to purchase lines in order; asking for more units than remain is refused."""
    wanted: dict[str, int] = {}
    if request.whole_order:
        for line in purchased:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity - line.returned
        if not any(wanted.values()):
            raise ReturnExceedsPurchase("every unit of this order has already been returned", field="whole_order")
    else:
        for line in request.lines or []:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity

    plan = ReturnPlan(points=0)
    for sku, quantity in wanted.items():
        remaining = quantity
        for index, line in enumerate(purchased):
            if line.sku != sku or remaining == 0:
                continue
            take = min(remaining, line.quantity - line.returned)
            if take == 0:
                continue
            after = line.returned + take
            points = line.clawed_back(after) - line.clawed_back()
            plan.returned[index] = after
            plan.points += points
            plan.lines.append({"sku": sku, "quantity": take, "points": points})
            remaining -= take
        if remaining:
            left = sum(line.quantity - line.returned for line in purchased if line.sku == sku)
            raise ReturnExceedsPurchase(
                f"cannot return {quantity} of {sku}: {left} left to return on this order",
                field="lines", details={"sku": sku, "requested": quantity, "returnable": left},
            )
    return plan


def points_to_refund(purchased: list[PurchasedLine], returned: dict[int, int], total: Decimal, points_paid: int,
                     refunded: int) -> int:
    """The points paid for an order that a return gives back: the paid points in proportion to the value
    returned so far (all of them once every unit is back), less what earlier returns gave back."""
    units = {i: returned.get(i, line.returned) for i, line in enumerate(purchased)}
    if all(units[i] >= line.quantity for i, line in enumerate(purchased)):
        return points_paid - refunded
    value = sum((line.amount * units[i] / line.quantity for i, line in enumerate(purchased)), Decimal(0))
    due = int((points_paid * value / total).to_integral_value(rounding=ROUND_FLOOR)) if total > 0 else 0
    return max(min(due, points_paid) - refunded, 0)
