"""How stored daily rows add up to a report's groups, and the figures derived from the sums
(docs/kpis.md). Pure: the adapter reads the rows, this folds them."""
from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable

from loyalty.kpis.counting import CHAIN, COUNTERS, MONEY_COUNTERS, month_of
from loyalty.kpis.results import KpiFigures, KpiReport, KpiRow

GROUP_BYS = ("store", "city", "channel", "day", "month", "chain")
CENT = Decimal("0.01")
EXPECTED_YEARS = Decimal(3)  # the predicted lifetime value's horizon (docs/kpis.md)


@dataclass(frozen=True)
class DailyRow:
    day: date
    dimension: str  # store | city | channel | chain
    value: str
    counters: dict[str, Any]


def source_dimension(group_by: str) -> str:
    """The stored rows a grouping reads: by day and month, the chain's rows (or one store's)."""
    return "chain" if group_by in ("day", "month") else group_by


def fold(rows: Iterable[DailyRow], group_by: str) -> dict[str, dict[str, Any]]:
    """Sum the rows' counters per group: the store, city or channel; the day; the month; or the chain."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = (row.day.isoformat() if group_by == "day" else month_of(row.day) if group_by == "month"
               else CHAIN if group_by == "chain" else row.value)
        summed = groups.setdefault(key, {})
        for name, value in row.counters.items():
            summed[name] = summed.get(name, 0) + value
    return groups


def _ratio(numerator: Any, denominator: Any, places: Decimal = CENT) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, ROUND_HALF_EVEN)


def figures(counters: dict[str, Any], *, days: int) -> KpiFigures:
    """The report's figures from a group's summed counters over `days` days."""
    c = {name: counters.get(name, 0) for name in COUNTERS}
    money = {name: Decimal(c[name]).quantize(CENT) for name in MONEY_COUNTERS}
    orders, buyers = int(c["orders"]), int(c["buyers_month"])
    average_ticket = _ratio(money["spend"], orders)
    frequency = _ratio(orders, buyers)
    yearly_frequency = (frequency * Decimal(365) / Decimal(days)).quantize(CENT) if frequency and days else None
    predicted = (average_ticket * yearly_frequency * EXPECTED_YEARS).quantize(CENT) \
        if average_ticket is not None and yearly_frequency is not None else None
    nps = (Decimal(100) * (int(c["nps_promoters"]) - int(c["nps_detractors"])) / int(c["nps_answers"])).quantize(
        Decimal("0.1"), ROUND_HALF_EVEN) if c["nps_answers"] else None
    return KpiFigures(
        new_members=int(c["new_members"]), active_members=int(c["active_members"]),
        active_members_month=int(c["active_members_month"]), orders=orders, items=int(c["items"]),
        spend=money["spend"], refunds=money["refunds"], returns=int(c["returns"]),
        discount_share=_ratio(money["discounted_spend"], money["spend"] + money["refunds"], Decimal("0.0001")),
        new_product_share=_ratio(money["new_product_spend"], money["spend"] + money["refunds"], Decimal("0.0001")),
        average_ticket=average_ticket, buyers=buyers, purchase_frequency=frequency,
        repeat_buyers=int(c["repeat_buyers_month"]),
        repurchase_rate=_ratio(c["repeat_buyers_month"], buyers, Decimal("0.0001")),
        first_purchases=int(c["first_purchases"]), predicted_lifetime_value=predicted,
        points_issued=int(c["points_issued"]), points_redeemed=int(c["points_redeemed"]),
        points_expired=int(c["points_expired"]), points_returned=int(c["points_returned"]),
        points_adjusted=int(c["points_adjusted"]),
        tier_upgrades=int(c["tier_upgrades"]), tier_downgrades=int(c["tier_downgrades"]),
        feedback=int(c["feedback"]), average_rating=_ratio(c["rating_sum"], c["ratings"]),
        nps=nps, nps_answers=int(c["nps_answers"]), resolved=int(c["resolved"]),
        on_time_share=_ratio(c["resolved_on_time"], c["resolved"], Decimal("0.0001")),
    )


def days_in(key: str, group_by: str, from_date: date, to_date: date) -> int:
    """Days of the period a group covers (a month group: its days within the period)."""
    if group_by == "day":
        return 1
    if group_by == "month":
        year, month = map(int, key.split("-"))
        first = max(from_date, date(year, month, 1))
        last = min(to_date, date(year, month, calendar.monthrange(year, month)[1]))
        return (last - first).days + 1
    return (to_date - from_date).days + 1


def rows_of(groups: dict[str, dict[str, Any]], group_by: str, from_date: date, to_date: date) -> list[KpiRow]:
    return [KpiRow(group=key, figures=figures(counters, days=days_in(key, group_by, from_date, to_date)))
            for key, counters in sorted(groups.items())]


CSV_FIGURES = tuple(KpiFigures.model_fields)


def to_csv(report: KpiReport) -> str:
    """One line per group, the figures as columns (empty where a figure has no denominator)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([report.group_by, *CSV_FIGURES])
    for row in report.rows:
        values = row.figures.model_dump(mode="json")
        writer.writerow([row.group, *("" if values[name] is None else values[name] for name in CSV_FIGURES)])
    return out.getvalue()
