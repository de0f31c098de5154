"""The KPI domain on its own: each formula on a small hand-counted chain, and the figures unchanged by
duplicate and reordered deliveries (the adapter's marker and member-month item simulated in memory)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.kpis.counting import MemberMonth, contribution, event_day, month_of, needs_member_month
from loyalty.kpis.report import DailyRow, fold, rows_of, to_csv
from loyalty.kpis.results import KpiReport

ZONE = ZoneInfo("Asia/Shanghai")
CITIES = {"SH-JINGAN": "上海", "SH-XUHUI": "上海", "HZ-XIHU": "杭州"}
_ids = iter(range(1, 10_000))


def at(day: int, hour: int = 10) -> str:
    return datetime(2026, 11, day, hour, tzinfo=ZONE).isoformat()


def purchase(member: str, store: str, total: str, day: int, *, channel: str = "pos", first: bool = False) -> tuple:
    return ("PurchaseRecorded.v1", {"event_id": f"evt_{next(_ids)}", "occurred_at": at(day), "purchased_at": at(day),
                                    "member_id": member, "store_id": store, "channel": channel, "total": total,
                                    "list_total": total, "discounted_total": "0", "new_product_total": "0",
                                    "items": 1, "categories": {"tea": total}, "points": int(Decimal(total)),
                                    "first_purchase": first})


def enrolled(member: str, store: str, day: int) -> tuple:
    return ("MemberEnrolled.v1", {"event_id": f"evt_{next(_ids)}", "occurred_at": at(day, 9), "member_id": member,
                                  "store_id": store, "channel": "pos", "client_id": "pos", "referred_by": None,
                                  "marketing_opt_in": True})


def feedback(store: str, day: int, rating: int, nps: int) -> tuple:
    return ("FeedbackReceived.v1", {"event_id": f"evt_{next(_ids)}", "occurred_at": at(day), "store_id": store,
                                    "channel": "app", "rating": rating, "nps": nps, "feedback_id": "f"})


class Adapter:
    """What DynamoKpiAggregates does, in memory: the event marker, the member's month, the rows."""

    def __init__(self):
        self.seen: set[str] = set()
        self.months: dict[tuple[str, str], MemberMonth] = {}
        self.rows: dict[tuple[date, str, str], dict] = {}

    def count(self, detail_type: str, detail: dict) -> None:
        if detail["event_id"] in self.seen:
            return
        member = detail.get("member_id")
        key = (member, month_of(event_day(detail_type, detail, ZONE)))
        read = self.months.get(key, MemberMonth()) if member and needs_member_month(detail_type, detail) else None
        adds = contribution(detail_type, detail, zone=ZONE, city_of=CITIES.get, member_month=read)
        self.seen.add(detail["event_id"])
        if adds.member_month is not None:
            self.months[key] = adds.member_month
        for (dimension, value), counters in adds.rows.items():
            row = self.rows.setdefault((adds.day, dimension, value), {})
            for name, delta in counters.items():
                row[name] = row.get(name, 0) + delta

    def daily(self, dimension: str) -> list[DailyRow]:
        return [DailyRow(day=d, dimension=dim, value=v, counters=c) for (d, dim, v), c in sorted(self.rows.items())
                if dim == dimension]


def small_chain() -> list[tuple]:
    """Three stores in two cities, four members, November 2026 (hand counts in the test)."""
    return [
        enrolled("m1", "SH-JINGAN", 2), enrolled("m2", "SH-JINGAN", 2), enrolled("m3", "HZ-XIHU", 3),
        enrolled("m4", "SH-XUHUI", 4),
        purchase("m1", "SH-JINGAN", "120.00", 2, first=True), purchase("m1", "SH-JINGAN", "80.00", 2),
        purchase("m1", "SH-XUHUI", "100.00", 9),
        purchase("m2", "SH-JINGAN", "300.00", 5, first=True),
        purchase("m3", "HZ-XIHU", "50.00", 3, first=True), purchase("m3", "HZ-XIHU", "70.00", 20, channel="app"),
        purchase("m3", "HZ-XIHU", "30.00", 21, channel="app"),
        feedback("SH-JINGAN", 6, 5, 10), feedback("SH-JINGAN", 7, 2, 3), feedback("HZ-XIHU", 8, 4, 8),
    ]


def report(events: list[tuple], group_by: str, dimension: str) -> dict[str, dict]:
    adapter = Adapter()
    for detail_type, detail in events:
        adapter.count(detail_type, detail)
    rows = rows_of(fold(adapter.daily(dimension), group_by), group_by, date(2026, 11, 1), date(2026, 11, 30))
    return {row.group: row.figures.model_dump(mode="json") for row in rows}


def test_each_formula_on_a_hand_counted_chain():
    stores = report(small_chain(), "store", "store")
    # 静安: m1 120 + 80 (same day), m2 300 -> 3 orders, 500.00, ticket 166.67; buyers m1, m2; m1 bought again.
    jingan = stores["SH-JINGAN"]
    assert (jingan["orders"], jingan["spend"], jingan["average_ticket"]) == (3, "500.00", "166.67")
    assert (jingan["buyers"], jingan["repeat_buyers"], jingan["repurchase_rate"], jingan["purchase_frequency"]) == (
        2, 1, "0.5000", "1.50")
    assert (jingan["new_members"], jingan["active_members"], jingan["active_members_month"]) == (2, 2, 2)
    # Feedback at 静安: ratings 5 and 2 -> 3.50; NPS: one promoter (10), one detractor (3) of two -> 0.0.
    assert (jingan["feedback"], jingan["average_rating"], jingan["nps"]) == (2, "3.50", "0.0")
    # 西湖: m3 three orders on three days: one buyer, a repeat buyer; active on 3 days, once in the month.
    xihu = stores["HZ-XIHU"]
    assert (xihu["orders"], xihu["spend"], xihu["buyers"], xihu["repeat_buyers"]) == (3, "150.00", 1, 1)
    assert (xihu["active_members"], xihu["active_members_month"], xihu["nps"]) == (3, 1, "0.0")

    cities = report(small_chain(), "city", "city")
    # 上海: m1 at two stores is one buyer of the city, with 3 orders there; m2 one order.
    shanghai = cities["上海"]
    assert (shanghai["orders"], shanghai["spend"], shanghai["buyers"], shanghai["repeat_buyers"]) == (4, "600.00", 2, 1)
    channels = report(small_chain(), "channel", "channel")
    assert (channels["app"]["orders"], channels["app"]["buyers"], channels["app"]["feedback"]) == (2, 1, 3)
    [chain] = report(small_chain(), "month", "chain").values()
    # The chain: 7 orders, 750.00, 4 new members; 3 buyers (m1, m2, m3), m1 and m3 bought again.
    assert (chain["orders"], chain["spend"], chain["new_members"], chain["buyers"], chain["repeat_buyers"]) == (
        7, "750.00", 4, 3, 2)
    assert chain["first_purchases"] == 3 and chain["repurchase_rate"] == "0.6667"
    # 107.14 a ticket x (2.33 orders a buyer in 30 days -> 28.35 a year) x 3 years = 9112.26.
    assert (chain["average_ticket"], chain["purchase_frequency"], chain["predicted_lifetime_value"]) == (
        "107.14", "2.33", "9112.26")


def test_the_csv_has_a_line_per_group_and_the_empty_ratios_blank():
    adapter = Adapter()
    for detail_type, detail in [enrolled("m9", "HZ-XIHU", 2)]:
        adapter.count(detail_type, detail)
    built = KpiReport.model_validate({
        "from": date(2026, 11, 1), "to": date(2026, 11, 30), "group_by": "store", "timezone": "Asia/Shanghai",
        "currency": "CNY", "generated_at": datetime(2026, 12, 1, tzinfo=timezone.utc),
        "rows": rows_of(fold(adapter.daily("store"), "store"), "store", date(2026, 11, 1), date(2026, 11, 30)),
        "totals": rows_of(fold(adapter.daily("store"), "chain"), "chain", date(2026, 11, 1), date(2026, 11, 30))[0].figures})
    lines = to_csv(built).splitlines()
    header = lines[0].split(",")
    values = dict(zip(header, lines[1].split(",")))
    assert (values["store"], values["new_members"], values["average_ticket"]) == ("HZ-XIHU", "1", "")  # no orders


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_duplicates_and_any_order_leave_every_figure_unchanged(data):
    events = small_chain()
    expected = {dim: report(events, dim, dim) for dim in ("store", "city", "channel")}
    delivered = data.draw(st.lists(st.sampled_from(events), min_size=0, max_size=20)) + events
    shuffled = data.draw(st.permutations(delivered))
    assert {dim: report(list(shuffled), dim, dim) for dim in ("store", "city", "channel")} == expected
