"""Returns claw back exactly what the returned units earned. No AWS."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.points.errors import ReturnExceedsPurchase
from loyalty.points.earning import PurchasedLine, plan_return
from loyalty.points.requests import ReturnRequest


def request(*lines: tuple[str, int], whole_order: bool = False) -> ReturnRequest:
    body = {"return_id": "R", "order_id": "O", "store_id": "S", "returning_store_id": "S",
            "occurred_at": "2026-11-18T10:00:00+08:00"}
    if whole_order:
        body["whole_order"] = True
    else:
        body["lines"] = [{"sku": sku, "quantity": q} for sku, q in lines]
    return ReturnRequest.model_validate(body)


def purchased(*lines: tuple[str, int, int]) -> list[PurchasedLine]:
    return [PurchasedLine(sku=sku, category="c", quantity=q, amount=Decimal(q), points=p) for sku, q, p in lines]


def apply(lines: list[PurchasedLine], plan) -> list[PurchasedLine]:
    return [line.model_copy(update={"returned": plan.returned.get(i, line.returned)}) for i, line in enumerate(lines)]


def test_unit_by_unit_returns_sum_to_what_the_line_earned_the_last_unit_takes_the_remainder():
    lines = purchased(("A", 3, 10))
    clawed = []
    for _ in range(3):
        plan = plan_return(lines, request(("A", 1)))
        clawed.append(plan.points)
        lines = apply(lines, plan)
    assert clawed == [3, 3, 4]


def test_whole_order_returns_what_is_left():
    lines = purchased(("A", 2, 11), ("B", 1, 5))
    first = plan_return(lines, request(("A", 1)))
    lines = apply(lines, first)
    rest = plan_return(lines, request(whole_order=True))
    assert first.points + rest.points == 16
    assert sorted((x["sku"], x["quantity"]) for x in rest.lines) == [("A", 1), ("B", 1)]


def test_returning_more_than_was_bought_is_refused_across_returns():
    lines = apply(purchased(("A", 2, 10)), plan_return(purchased(("A", 2, 10)), request(("A", 1))))
    with pytest.raises(ReturnExceedsPurchase) as error:
        plan_return(lines, request(("A", 2)))
    assert error.value.details == {"sku": "A", "requested": 2, "returnable": 1}


def test_a_sku_not_on_the_order_cannot_be_returned():
    with pytest.raises(ReturnExceedsPurchase):
        plan_return(purchased(("A", 1, 10)), request(("Z", 1)))


def test_nothing_left_to_return_for_whole_order():
    lines = purchased(("A", 1, 10))
    lines = apply(lines, plan_return(lines, request(whole_order=True)))
    with pytest.raises(ReturnExceedsPurchase):
        plan_return(lines, request(whole_order=True))


def test_a_sku_on_two_lines_is_taken_from_them_in_order():
    lines = purchased(("A", 1, 10), ("A", 2, 6))
    plan = plan_return(lines, request(("A", 2)))
    assert plan.returned == {0: 1, 1: 1} and plan.points == 13


@settings(max_examples=150, deadline=None)
@given(quantity=st.integers(1, 30), points=st.integers(0, 10_000), data=st.data())
def test_any_split_of_returns_claws_back_exactly_the_points_earned(quantity, points, data):
    lines = purchased(("A", quantity, points))
    total = 0
    left = quantity
    while left:
        take = data.draw(st.integers(1, left))
        plan = plan_return(lines, request(("A", take)))
        assert 0 <= plan.points <= points
        total += plan.points
        lines = apply(lines, plan)
        left -= take
    assert total == points
