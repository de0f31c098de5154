"""Twelve months of daily activity for five personas, through the real use cases and the daily review over
moto's table: each persona's tier timeline is what the ladder (the chains' default) says it should be."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import PurchaseRequest, ReturnRequest
from loyalty.tiers.dynamo import DynamoReviewIndex, review_shard
from loyalty.tiers.service import TierReviews
from tests.component.points.conftest import enroll, line, purchase_body
from tests.conftest import POS_SH

START = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
DAYS = 366  # 1 January 2026 to 1 January 2027: the first anniversaries fall on the last day


class PersonaShards(DynamoReviewIndex):
    """The real index, asked only for the shards the personas live in: the others are empty here, and
    moto answers an index query by reading the whole table (hundreds of empty queries cost minutes)."""

    def __init__(self, table, members: list[str]):
        super().__init__(table)
        self.members = members

    def due_members(self, day, shard, after=None):
        if shard not in {review_shard(m) for m in self.members}:
            return iter(())
        return super().due_members(day, shard, after)


def timeline(services, member_id: str) -> list[tuple[str, str, str, str]]:
    page = services.tier_queries.history(member_id, ClientIdentity.from_context(POS_SH), limit=100)
    return [(item.at.date().isoformat(), item.from_tier, item.to_tier, item.reason) for item in reversed(page.items)]


def test_twelve_months_of_five_personas(services, clock):
    clock.current = START
    pos = ClientIdentity.from_context(POS_SH)
    steady_gold, lapsing_silver, frequent_small, returner = (enroll(services) for _ in range(4))
    big_spender = None
    personas = [steady_gold, lapsing_silver, frequent_small, returner]
    reviews = TierReviews(services.tier_ladder, services.tier_standings, PersonaShards(services.table, personas),
                          services.tier_records, clock, lambda: services.program_rules.current().zone())
    orders = iter(range(1, 10_000))

    def buy(member_id: str, amount: str) -> str:
        order_id = f"SIM-{next(orders)}"
        request = PurchaseRequest.model_validate(purchase_body(
            order_id, line(unit_price=amount), occurred_at=clock.now() - timedelta(minutes=5)))
        services.points_service.earn_purchase(member_id, request, pos)
        return order_id

    for day in range(DAYS):
        if day % 7 == 0:
            buy(steady_gold, "500.00")  # 500 a week: 26,000 a year
        if day == 0:
            buy(lapsing_silver, "3500.00")  # silver at once, then a little, then nothing
        if day in (40, 80):
            buy(lapsing_silver, "200.00")
        if day % 3 == 0:
            buy(frequent_small, "30.00")  # small baskets: qualifies on visits, not on spend
        if day == 90:
            big_spender = enroll(services)
            personas.append(big_spender)
            buy(big_spender, "6000.00")
        if day == 20:
            buy(returner, "800.00")
        if day == 21:
            upgrading = buy(returner, "400.00")
        if day == 25:
            services.points_service.record_return(returner, ReturnRequest.model_validate({
                "return_id": "SIM-RET-1", "order_id": upgrading, "store_id": "SH-JINGAN",
                "returning_store_id": "SH-JINGAN", "whole_order": True,
                "occurred_at": (clock.now() - timedelta(minutes=1)).isoformat()}), pos)
        reviews.run()  # the daily schedule
        clock.advance(days=1)

    # 500 a week: 1,000 by the 2nd week, 3,000 by the 6th, 5,000 by the 10th; the first review is a year on.
    assert timeline(services, steady_gold) == [
        ("2026-01-08", "base", "bronze", "purchase"), ("2026-02-05", "bronze", "silver", "purchase"),
        ("2026-03-05", "silver", "gold", "purchase")]
    # Silver on day one; on the anniversary January 2026's 3,500 has left the window: down one level.
    assert timeline(services, lapsing_silver) == [
        ("2026-01-01", "base", "silver", "purchase"), ("2027-01-01", "silver", "bronze", "review")]
    # Every third day: 12 visits on day 33, 24 on day 69, 48 on day 141 (spend stays under 5,000).
    assert timeline(services, frequent_small) == [
        ("2026-02-03", "base", "bronze", "purchase"), ("2026-03-11", "bronze", "silver", "purchase"),
        ("2026-05-22", "silver", "gold", "purchase")]
    assert timeline(services, big_spender) == [("2026-04-01", "base", "gold", "purchase")]
    # The purchase that made bronze came back: so did the tier.
    assert timeline(services, returner) == [
        ("2026-01-22", "base", "bronze", "purchase"), ("2026-01-26", "bronze", "base", "return")]
    warnings = [e.detail for e in services.publisher.events if e.detail_type == "TierDowngradeWarning.v1"]
    assert [(w["member_id"], w["tier"], w["review_on"]) for w in warnings] == \
        [(lapsing_silver, "silver", "2027-01-01")]
    assert Decimal(services.tier_queries.benefits(frequent_small, pos).figures.spend) < Decimal(5000)
