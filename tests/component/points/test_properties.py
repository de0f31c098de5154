"""Property-based: random sequences of purchases, replays, returns, activities, adjustments (and, with a
return window, activations) keep the balance equal to the sum of the ledger and match a small model."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.kernel.identity import ClientIdentity
from loyalty.points.errors import ActivityCapReached, InsufficientPoints, ReturnExceedsPurchase
from loyalty.points.earning import AdjustmentRequest, PurchaseRequest, ReturnRequest
from tests.component.points.conftest import enroll, purchase_body, set_rules
from tests.conftest import BACKOFFICE, POS_SH

POS = ClientIdentity.from_context(POS_SH)
ADMIN = ClientIdentity.from_context(BACKOFFICE)
_unique = itertools.count()

ACTIVITY_POINTS = {"check_in": 5, "review": 20}
ACTIVITY_DAILY_CAP = {"check_in": 1, "review": 2}
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

line_strategy = st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 3), st.integers(1, 200),
                          st.sampled_from(["apparel", "apparel", "gift_card"]))
operation = st.one_of(
    st.tuples(st.just("purchase"), st.lists(line_strategy, min_size=1, max_size=3, unique_by=lambda x: x[0])),
    st.tuples(st.just("replay"), st.integers(0, 20)),
    st.tuples(st.just("return"), st.integers(0, 20), st.sampled_from(["A", "B", "C"]), st.integers(1, 3)),
    st.tuples(st.just("return_all"), st.integers(0, 20)),
    st.tuples(st.just("activity"), st.sampled_from(sorted(ACTIVITY_POINTS))),
    st.tuples(st.just("adjust"), st.integers(-150, 150).filter(bool)),
    st.tuples(st.just("spend"), st.integers(50, 100)),  # takes most of what is available: returns then make debt
    st.tuples(st.just("return_all"), st.integers(0, 20)),
)


@dataclass
class Line:
    sku: str
    quantity: int
    points: int
    returned: int = 0


@dataclass
class Purchase:
    order_id: str
    body: dict
    lines: list[Line]
    lot: int = 0
    activates_at: object = None
    result: dict | None = None


@dataclass
class Model:
    """What the balance should be, computed the simplest way (base rate 1, whole-yuan prices)."""

    available: int = 0
    pending: int = 0
    debt: int = 0
    purchases: list[Purchase] = field(default_factory=list)
    activities: dict[tuple[str, str], int] = field(default_factory=dict)

    def credit(self, points: int) -> int:
        repaid = min(self.debt, points)
        self.debt -= repaid
        return points - repaid

    def earn(self, purchase: Purchase, pending: bool) -> None:
        kept = self.credit(sum(line.points for line in purchase.lines))
        if pending:
            purchase.lot = kept
            self.pending += kept
        else:
            self.available += kept

    def claw_back(self, purchase: Purchase, returns: dict[int, int]) -> int:
        points = 0
        for index, units in returns.items():
            line = purchase.lines[index]
            points += line.points * (line.returned + units) // line.quantity - line.points * line.returned // line.quantity
            line.returned += units
        from_pending = min(purchase.lot, points)
        purchase.lot -= from_pending
        self.pending -= from_pending
        from_available = min(self.available, points - from_pending)
        self.available -= from_available
        self.debt += points - from_pending - from_available
        return points

    def activate_due(self, now) -> None:
        for purchase in self.purchases:
            if purchase.lot and purchase.activates_at <= now:
                self.pending -= purchase.lot
                self.available += self.credit(purchase.lot)
                purchase.lot = 0


@contextmanager
def own_table(services, clock, **rules):
    """A fresh table per example: moto copies a whole table for every transaction, so a table that kept
    every earlier example's items would make each later example slower."""
    import boto3

    from local.demo import DEMO_STORES
    from local.provision import create_table
    from loyalty.wiring import Services

    name = f"loyalty-props-{next(_unique)}"
    create_table(boto3.client("dynamodb"), table_name=name, stream=False)
    scoped = Services(table=boto3.resource("dynamodb").Table(name), publisher=services.publisher, clock=clock,
                      settings=services.settings)
    for store in DEMO_STORES:
        scoped.stores.put_store(store)
    set_rules(scoped, expiry_months=None, welcome_bonus=0,
              activities={"check_in": {"points": 5, "daily_cap": 1}, "review": {"points": 20, "daily_cap": 2}},
              **rules)
    try:
        yield scoped
    finally:
        boto3.client("dynamodb").delete_table(TableName=name)


def run(services, clock, operations, *, pending: bool) -> None:
    service = services.points_service
    member_id = enroll(services)
    tag = f"{next(_unique)}-{member_id[-6:]}"
    model = Model()
    for step, op in enumerate(operations):
        kind = op[0]
        if kind == "purchase":
            lines = [{"sku": sku, "category": category, "quantity": quantity, "unit_price": f"{price}.00",
                      "amount": f"{price * quantity}.00"} for sku, quantity, price, category in op[1]]
            order_id = f"O-{tag}-{step}"
            body = purchase_body(order_id, *lines, occurred_at=clock.now() - timedelta(hours=1))
            purchase = Purchase(order_id, body, [
                Line(sku, quantity, 0 if category == "gift_card" else price * quantity)
                for sku, quantity, price, category in op[1]])
            outcome = service.earn_purchase(member_id, PurchaseRequest.model_validate(body), POS)
            assert outcome.created and outcome.result.body()["points"] == sum(line.points for line in purchase.lines)
            purchase.result = outcome.result
            purchase.activates_at = clock.now() - timedelta(hours=1) + timedelta(days=7)
            model.earn(purchase, pending)
            model.purchases.append(purchase)
        elif kind == "replay" and model.purchases:
            purchase = model.purchases[op[1] % len(model.purchases)]
            outcome = service.earn_purchase(member_id, PurchaseRequest.model_validate(purchase.body), POS)
            assert not outcome.created and outcome.result == purchase.result
        elif kind in ("return", "return_all") and model.purchases:
            purchase = model.purchases[op[1] % len(model.purchases)]
            body = {"return_id": f"R-{tag}-{step}", "order_id": purchase.order_id, "store_id": "SH-JINGAN",
                    "returning_store_id": "SH-JINGAN", "occurred_at": clock.now().isoformat()}
            if kind == "return_all":
                wanted = {i: line.quantity - line.returned for i, line in enumerate(purchase.lines)}
                body["whole_order"] = True
            else:
                sku, units = op[2], op[3]
                index = next((i for i, line in enumerate(purchase.lines) if line.sku == sku), None)
                wanted = {index: units} if index is not None else {}
                body["lines"] = [{"sku": sku, "quantity": units}]
            possible = (any(wanted.values()) and None not in wanted and
                        all(purchase.lines[i].quantity - purchase.lines[i].returned >= u for i, u in wanted.items()))
            if not possible:
                with pytest.raises(ReturnExceedsPurchase):
                    service.record_return(member_id, ReturnRequest.model_validate(body), POS)
            else:
                outcome = service.record_return(member_id, ReturnRequest.model_validate(body), POS)
                assert outcome.result.body()["points"] == model.claw_back(purchase, {i: u for i, u in wanted.items() if u})
                again = service.record_return(member_id, ReturnRequest.model_validate(body), POS)
                assert not again.created and again.result == outcome.result
        elif kind == "activity":
            activity_type = op[1]
            day = clock.now().astimezone(services.program_rules.current().zone()).date().isoformat()
            done = model.activities.get((activity_type, day), 0)
            call = lambda: service.earn_activity(member_id, activity_id=f"A-{step}", activity_type=activity_type,  # noqa: E731
                                                 occurred_at=clock.now(), store_id="SH-JINGAN", client=POS)
            if done >= ACTIVITY_DAILY_CAP[activity_type]:
                with pytest.raises(ActivityCapReached):
                    call()
            else:
                assert call().created
                model.activities[(activity_type, day)] = done + 1
                model.available += model.credit(ACTIVITY_POINTS[activity_type])
        elif kind in ("adjust", "spend"):
            points = op[1] if kind == "adjust" else -(model.available * op[1] // 100)
            if points == 0:
                continue
            request = AdjustmentRequest(adjustment_id=f"J-{tag}-{step}", points=points, reason="property test")
            if points < 0 and model.available + points < 0:
                with pytest.raises(InsufficientPoints):
                    service.adjust(member_id, request, ADMIN)
            else:
                service.adjust(member_id, request, ADMIN)
                if points > 0:
                    model.available += model.credit(points)
                else:
                    model.available += points
        elif kind == "wait":
            clock.advance(days=op[1])
            services.points_activation.activate_due()
            model.activate_due(clock.now())
        balance = services.points_queries.balance(member_id, POS).body()
        assert (balance["available"], balance["pending"], balance["debt"]) == (model.available, model.pending, model.debt)
        assert balance["available"] >= 0 and balance["debt"] >= 0
    check_ledger(services, member_id)


def check_ledger(services, member_id: str) -> None:
    """The ledger explains the balance: each of its parts is the sum of the entries' changes."""
    balance = services.points_queries.balance(member_id, POS).body()
    entries, cursor = [], None
    while True:
        page = services.points_queries.ledger(member_id, POS, limit=100, cursor=cursor).body()
        entries += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert sum(e["available_change"] for e in entries) == balance["available"]
    assert sum(e["pending_change"] for e in entries) == balance["pending"]
    assert sum(e["debt_change"] for e in entries) == balance["debt"]
    assert all(e["points"] == e["available_change"] + e["pending_change"] for e in entries)
    if entries:
        assert entries[0]["balance_after"] == balance["available"]
        assert entries[0]["pending_after"] == balance["pending"]
        assert [e["seq"] for e in entries] == list(range(len(entries), 0, -1))


@PROPERTY_SETTINGS
@given(operations=st.lists(operation, max_size=12))
def test_points_stay_consistent_under_random_operations(services, clock, operations):
    with own_table(services, clock) as scoped:
        run(scoped, clock, operations, pending=False)


@PROPERTY_SETTINGS
@given(operations=st.lists(st.one_of(operation, st.tuples(st.just("wait"), st.integers(1, 8))), max_size=12))
def test_points_stay_consistent_with_a_return_window(services, clock, operations):
    with own_table(services, clock, activation_delay_days=7) as scoped:
        run(scoped, clock, operations, pending=True)
