"""The earning maths, with no AWS: rounding, multipliers, exclusions, bonuses, promotions, cap."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loyalty.points.earning import allocate, calculate_purchase_points, store_local_date
from loyalty.points.requests import PurchaseLine, PurchaseRequest
from loyalty.points.program import DEFAULT_RULES, Promotion, ProgramRules

PLAIN = ProgramRules(base_rate=Decimal(1), tier_multipliers={"base": Decimal(1)})
SHANGHAI_DAY = date(2026, 11, 17)


def line(amount: str, *, sku: str = "SKU", category: str = "apparel", quantity: int = 1, discounted: bool = False):
    amount_d = Decimal(amount)
    unit = amount_d / quantity if not discounted else amount_d
    return PurchaseLine(sku=sku, category=category, quantity=quantity, unit_price=unit, amount=amount_d,
                        discounted=discounted)


def earn(rules: ProgramRules, *lines: PurchaseLine, tier: str = "base", store_id: str = "SH-JINGAN",
         city: str = "上海", local_date: date = SHANGHAI_DAY):
    return calculate_purchase_points(rules, list(lines), tier=tier, store_id=store_id, city=city,
                                     local_date=local_date)


def test_points_are_rounded_down_once_per_purchase():
    # per line these would round to 0 + 0; per purchase 0.50 + 0.60 = 1.10 -> 1
    earning = earn(PLAIN, line("0.50", sku="A"), line("0.60", sku="B"))
    assert earning.points == 1
    assert sum(earning.line_points) == 1
    assert earn(PLAIN, line("99.99")).points == 99


def test_base_rate_applies_to_eligible_spend():
    rules = PLAIN.model_copy(update={"base_rate": Decimal("2.5")})
    earning = earn(rules, line("10.10"))
    assert earning.points == 25  # 25.25 rounded down
    assert earning.breakdown["base"] == 25
    assert earning.breakdown["base_rate"] == "2.5"


def test_tier_multiplier_multiplies_and_shows_what_it_added():
    rules = PLAIN.model_copy(update={"tier_multipliers": {"base": Decimal(1), "gold": Decimal("1.5")}})
    earning = earn(rules, line("101.00"), tier="gold")
    assert earning.points == 151  # 151.5 rounded down
    assert earning.breakdown["multipliers"] == [{"kind": "tier", "tier": "gold", "factor": "1.5", "points": 50}]
    assert earn(rules, line("101.00"), tier="unknown-tier").points == 101  # an unknown tier earns like base


def test_category_multiplier_applies_only_to_its_lines():
    rules = PLAIN.model_copy(update={"category_multipliers": {"beauty": Decimal(2)}})
    earning = earn(rules, line("50.00", sku="LIP", category="beauty"), line("50.00", sku="TEE"))
    assert earning.points == 150
    assert earning.breakdown["multipliers"] == [
        {"kind": "category", "category": "beauty", "factor": "2", "points": 50}]
    assert earning.line_points == [100, 50]


def test_category_and_tier_multipliers_compound():
    rules = PLAIN.model_copy(update={"category_multipliers": {"beauty": Decimal(2)},
                                     "tier_multipliers": {"base": Decimal(1), "gold": Decimal("1.5")}})
    earning = earn(rules, line("10.00", category="beauty"), tier="gold")
    assert earning.points == 30
    assert [m["points"] for m in earning.breakdown["multipliers"]] == [10, 10]
    assert earning.breakdown["base"] + sum(m["points"] for m in earning.breakdown["multipliers"]) == 30


def test_excluded_categories_earn_nothing_not_even_sku_bonuses():
    rules = PLAIN.model_copy(update={"excluded_categories": ["gift_card", "tobacco"], "sku_bonuses": {"GC-100": 50}})
    earning = earn(rules, line("100.00", sku="GC-100", category="gift_card"), line("30.00", category="food"))
    assert earning.points == 30
    assert earning.line_points == [0, 30]
    assert earning.breakdown["eligible_spend"] == "30.00"
    assert earning.breakdown["excluded_spend"] == "100.00"
    assert earning.breakdown["bonuses"] == []


def test_sku_bonus_is_fixed_points_per_unit():
    rules = PLAIN.model_copy(update={"sku_bonuses": {"NEW-SERUM": 10}})
    earning = earn(rules, line("90.00", sku="NEW-SERUM", quantity=3), line("10.00", sku="OTHER"))
    assert earning.points == 130
    assert earning.breakdown["bonuses"] == [
        {"kind": "sku", "sku": "NEW-SERUM", "points_per_unit": 10, "quantity": 3, "points": 30}]
    assert earning.line_points == [120, 10]


HANGZHOU_18TH = Promotion(promotion_id="hz-18", name="Double points on the 18th in Hangzhou",
                          cities=["杭州"], days_of_month=[18], multiplier=Decimal(2))


def test_promotion_is_evaluated_on_the_store_local_date_not_the_utc_date():
    rules = PLAIN.model_copy(update={"promotions": [HANGZHOU_18TH]})
    # 17 Nov 17:30 UTC is already 18 Nov 01:30 in Hangzhou: the promotion applies
    late_evening_utc = datetime(2026, 11, 17, 17, 30, tzinfo=timezone.utc)
    local = store_local_date(late_evening_utc, "Asia/Shanghai")
    assert local == date(2026, 11, 18) and late_evening_utc.date() == date(2026, 11, 17)
    assert earn(rules, line("100.00"), store_id="HZ-XIHU", city="杭州", local_date=local).points == 200
    # 18 Nov 16:30 UTC is 19 Nov in Hangzhou: it does not, although the UTC date is the 18th
    next_local = store_local_date(datetime(2026, 11, 18, 16, 30, tzinfo=timezone.utc), "Asia/Shanghai")
    assert next_local == date(2026, 11, 19)
    assert earn(rules, line("100.00"), store_id="HZ-XIHU", city="杭州", local_date=next_local).points == 100


def test_promotion_is_bound_to_its_stores_or_cities():
    by_store = Promotion(promotion_id="xuhui", name="x", store_ids=["SH-XUHUI"], multiplier=Decimal(3))
    rules = PLAIN.model_copy(update={"promotions": [HANGZHOU_18TH, by_store]})
    day = date(2026, 11, 18)
    assert earn(rules, line("10.00"), store_id="SH-JINGAN", city="上海", local_date=day).points == 10
    assert earn(rules, line("10.00"), store_id="SH-XUHUI", city="上海", local_date=day).points == 30
    assert earn(rules, line("10.00"), store_id="HZ-XIHU", city="杭州", local_date=day).points == 20


def test_best_promotion_multiplier_wins_and_bonus_points_add():
    triple = Promotion(promotion_id="triple", name="x", multiplier=Decimal(3), weekdays=[3])  # 18 Nov 2026: Wed
    bonus = Promotion(promotion_id="bonus", name="x", bonus_points=88, min_spend=Decimal("50.00"))
    rules = PLAIN.model_copy(update={"promotions": [HANGZHOU_18TH, triple, bonus]})
    earning = earn(rules, line("100.00"), store_id="HZ-XIHU", city="杭州", local_date=date(2026, 11, 18))
    assert earning.points == 388
    assert earning.breakdown["multipliers"] == [
        {"kind": "promotion", "promotion_id": "triple", "factor": "3", "points": 200}]
    assert earning.breakdown["bonuses"] == [{"kind": "promotion", "promotion_id": "bonus", "points": 88}]
    assert earn(rules, line("49.00"), local_date=date(2026, 11, 17)).points == 49  # under min_spend, not Wed


def test_promotion_date_range_limits_it():
    promo = Promotion(promotion_id="nov", name="x", multiplier=Decimal(2), starts_on=date(2026, 11, 1),
                      ends_on=date(2026, 11, 11))
    rules = PLAIN.model_copy(update={"promotions": [promo]})
    assert earn(rules, line("10.00"), local_date=date(2026, 11, 11)).points == 20
    assert earn(rules, line("10.00"), local_date=date(2026, 11, 12)).points == 10


def test_cap_limits_a_purchase_and_says_so():
    rules = PLAIN.model_copy(update={"per_purchase_cap": 100, "sku_bonuses": {"A": 5}})
    earning = earn(rules, line("300.00", sku="A", quantity=3), line("200.00", sku="B"))
    assert earning.points == 100
    assert earning.breakdown["subtotal"] == 515
    assert earning.breakdown["cap_applied"] is True
    assert earning.breakdown["cap_points_removed"] == 415
    assert sum(earning.line_points) == 100
    assert earn(rules, line("50.00")).breakdown["cap_applied"] is False


def test_nothing_eligible_earns_nothing():
    earning = earn(DEFAULT_RULES, line("100.00", category="tobacco"))
    assert earning.points == 0 and earning.line_points == [0]


@settings(max_examples=200, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**6),
       weights=st.lists(st.decimals(min_value=0, max_value=10**5, places=2), min_size=1, max_size=20))
def test_allocation_sums_exactly_and_stays_within_one_point_of_the_exact_share(total, weights):
    shares = allocate(total, weights)
    weight_sum = sum(weights)
    if weight_sum == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights):
        exact = Decimal(total) * weight / weight_sum
        assert exact - 1 < share < exact + 1


@settings(max_examples=100, deadline=None)
@given(amounts=st.lists(st.decimals(min_value="0.01", max_value="9999.99", places=2), min_size=1, max_size=8),
       rate=st.decimals(min_value="0.1", max_value=10, places=1))
def test_line_points_always_add_up_to_the_purchase_points(amounts, rate):
    rules = PLAIN.model_copy(update={"base_rate": rate})
    lines = [line(str(a), sku=f"S{i}") for i, a in enumerate(amounts)]
    earning = earn(rules, *lines)
    assert earning.points == int(sum(amounts) * rate // 1)
    assert sum(earning.line_points) == earning.points


# -- request validation ---------------------------------------------------------------------------------
def _purchase(**changes) -> dict:
    body = {
        "order_id": "O-1", "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": "2026-11-18T10:00:00+08:00",
        "currency": "CNY", "payment_method": "cash", "total": "250.00",
        "lines": [{"sku": "A", "category": "food", "quantity": 2, "unit_price": "100.00", "amount": "200.00"},
                  {"sku": "B", "category": "food", "quantity": 1, "unit_price": "60.00", "amount": "50.00",
                   "discounted": True}],
    }
    body.update(changes)
    return body


def _error_fields(body) -> list[tuple]:
    with pytest.raises(ValidationError) as error:
        PurchaseRequest.model_validate(body)
    return [e["loc"] for e in error.value.errors()]


def test_a_valid_purchase_parses_with_decimal_money():
    request = PurchaseRequest.model_validate(_purchase())
    assert request.total == Decimal("250.00") and isinstance(request.lines[0].amount, Decimal)


def test_total_must_be_the_sum_of_the_lines():
    assert _error_fields(_purchase(total="251.00")) == [("total",)]


def test_line_amount_must_match_quantity_times_price_unless_discounted():
    body = _purchase()
    body["lines"][0]["amount"] = "199.00"
    body["total"] = "249.00"
    assert _error_fields(body) == [("lines", 0, "amount")]
    body = _purchase()
    body["lines"][1]["amount"] = "70.00"  # discounted, but above the list amount
    body["total"] = "270.00"
    assert _error_fields(body) == [("lines", 1, "amount")]


@pytest.mark.parametrize("changes", [
    {"occurred_at": "2026-11-18T10:00:00"},  # no offset
    {"total": "-250.00"},
    {"currency": "rmb"},
    {"lines": []},
])
def test_malformed_purchases_are_refused(changes):
    with pytest.raises(ValidationError):
        PurchaseRequest.model_validate(_purchase(**changes))


def test_money_has_at_most_two_decimal_places():
    body = _purchase()
    body["lines"] = [{"sku": "A", "category": "food", "quantity": 1, "unit_price": "1.005", "amount": "1.005"}]
    body["total"] = "1.005"
    with pytest.raises(ValidationError):
        PurchaseRequest.model_validate(body)


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-08:00"])
def test_a_time_that_has_no_utc_form_is_refused_naming_occurred_at(occurred_at):
    from loyalty.points.requests import ActivityRequest, ReturnRequest

    assert _error_fields(_purchase(occurred_at=occurred_at)) == [("occurred_at",)]
    for model, body in [
        (ReturnRequest, {"return_id": "R", "order_id": "O", "store_id": "S", "returning_store_id": "S",
                         "whole_order": True}),
        (ActivityRequest, {"activity_id": "A", "type": "check_in"}),
    ]:
        with pytest.raises(ValidationError) as error:
            model.model_validate({**body, "occurred_at": occurred_at})
        assert [e["loc"] for e in error.value.errors()] == [("occurred_at",)]
