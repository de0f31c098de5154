"""Property-based: random sequences of purchases, replays, returns, activities, adjustments (and, with a
return window, activations) keep the balance equal to the sum of the ledger and match a small model; and
random sequences of earning, returns, redemptions, cancels, points reservations, captures, voids, the hold
sweep and expiry do the same, under both debt policies."""
from __future__ import annotations

import copy
import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.kernel.identity import ClientIdentity
from loyalty.points.errors import (
    ActivityCapReached, InsufficientPoints, MemberInDebt, PaymentAlreadyCaptured, PaymentAlreadyVoided,
    ReturnExceedsPurchase,
)
from loyalty.points.requests import AdjustmentRequest, PurchaseRequest, ReturnRequest
from loyalty.points.ledger import expiry_month, month_end
from loyalty.points.requests import PointsPaymentRequest
from loyalty.points.program import DebtPolicy
from loyalty.rewards.domain import RewardInput
from loyalty.rewards.errors import RewardOutOfStock
from loyalty.rewards.requests import RedemptionRequest
from tests.component.points.conftest import enroll, line, purchase_body, set_rules
from tests.conftest import BACKOFFICE, POS_HZ, POS_SH

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
    set_rules(scoped, **{"expiry_months": None, "welcome_bonus": 0,
                         "activities": {"check_in": {"points": 5, "daily_cap": 1}, "review": {"points": 20, "daily_cap": 2}},
                         **rules})
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


# -- spending: redemptions, cancels, points at the till, the hold sweep, expiry ----------------------------
POS_HANGZHOU = ClientIdentity.from_context(POS_HZ)
TILLS = {"SH-JINGAN": POS, "HZ-XIHU": POS_HANGZHOU}
REWARDS = {"mug": (20, None), "lamp": (50, None), "last-two": (30, 2)}  # reward id: (points cost, stock)
HOLD_MINUTES = 30  # the default points_payment_hold_minutes

SPENDING_STEPS = {
    "earn": (st.sampled_from(sorted(TILLS)), st.integers(10, 150)),
    "return": (st.integers(0, 20),),  # a whole earlier purchase: maybe more than is left, making debt
    "redeem": (st.sampled_from(sorted(REWARDS)), st.integers(1, 3), st.sampled_from(sorted(TILLS))),
    "redeem_again": (st.integers(0, 20),),
    "cancel": (st.integers(0, 20),),
    "reserve": (st.integers(30, 100),),  # percent of what is available
    "capture": (st.integers(0, 20),),
    "void": (st.integers(0, 20),),
    "sweep": (st.integers(1, 40),),  # minutes pass, then the hold sweep runs
    "wait": (st.integers(1, 45),),  # days pass (the sweep runs on time meanwhile)
}
SPENDING_MIX = ["earn"] * 2 + ["return", "redeem", "cancel", "reserve", "void"] * 3 + [
    "capture", "redeem_again", "sweep", "wait"]
spending_operation = st.sampled_from(SPENDING_MIX).flatmap(
    lambda kind: st.tuples(st.just(kind), *SPENDING_STEPS[kind]))


@dataclass
class Earned:
    order_id: str
    store_id: str
    points: int
    returned: bool = False


@dataclass
class Spent:
    """A redemption (open, cancelled) or a points payment (reserved, captured, voided, expired)."""

    key: str
    points: int
    months: dict[str, int]
    store_id: str
    status: str
    request: object = None
    result: object = None
    held_until: object = None


@dataclass
class Wallet:
    """What the points should be, the simplest way: expiry months as a map of month to points, which sums
    to the positive part of available; losses come out of the soonest months; spent or held points
    remember their months and bring them back; months that ended expire at the member's next write."""

    negative_balance: bool
    expiry_months: int | None
    available: int = 0
    reserved: int = 0
    debt: int = 0
    buckets: dict[str, int] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)

    def take(self, points: int) -> dict[str, int]:
        taken = {}
        for month in sorted(self.buckets):
            if points <= 0:
                break
            n = min(points, self.buckets[month])
            taken[month], points = n, points - n
            self.buckets[month] -= n
            if not self.buckets[month]:
                del self.buckets[month]
        return taken

    def gain(self, points: int, month: str | None) -> None:
        before, self.available = self.available, self.available + points
        added = max(self.available, 0) - max(before, 0)
        if month is not None and added > 0:
            self.buckets[month] = self.buckets.get(month, 0) + added

    def lose(self, points: int) -> dict[str, int]:
        before, self.available = self.available, self.available - points
        return self.take(max(before, 0) - max(self.available, 0))

    def expire(self, today) -> None:
        for month in [m for m in self.buckets if month_end(m) < today]:
            self.available -= self.buckets.pop(month)

    def repay(self, points: int) -> None:
        repaid = min(self.debt, points)
        self.debt -= repaid
        self.lose(repaid)

    def earn(self, points: int, month: str | None) -> None:
        self.gain(points, month)
        self.repay(points)

    def claw_back(self, points: int) -> None:
        if self.negative_balance:
            self.lose(points)
            return
        from_available = min(max(self.available, 0), points)
        self.lose(from_available)
        self.debt += points - from_available

    def refusal(self, points: int):
        if self.debt:
            return MemberInDebt
        if self.available < points:
            return InsufficientPoints
        return None

    def come_back(self, spent: Spent, today) -> None:
        """A cancel or a release: the points and their months come back, fill a hole below zero first,
        expire if their month ended meanwhile, and repay debt as far as they are still available."""
        before, self.available = self.available, self.available + spent.points
        for month, n in spent.months.items():
            self.buckets[month] = self.buckets.get(month, 0) + n
        self.take(max(before, 0) + spent.points - max(self.available, 0))
        self.expire(today)
        self.repay(min(spent.points, max(self.available, 0)))


def run_spending(services, clock, operations, *, policy: DebtPolicy, expiry: int | None) -> None:
    zone = services.program_rules.current().zone()
    member_id = enroll(services)
    tag = f"{next(_unique)}-{member_id[-6:]}"
    for reward_id, (cost, stock) in REWARDS.items():
        services.reward_catalogue.create(RewardInput.model_validate({
            "reward_id": reward_id, "name": {"zh": reward_id, "en": reward_id}, "kind": "physical_gift",
            "points_cost": cost, "stock": stock}), ADMIN)
    model = Wallet(negative_balance=policy == DebtPolicy.NEGATIVE_BALANCE, expiry_months=expiry,
                   stock={reward_id: stock for reward_id, (_cost, stock) in REWARDS.items() if stock is not None})
    earned: list[Earned] = []
    redemptions: list[Spent] = []
    payments: list[Spent] = []
    ledger: list[dict] = []

    def today():
        return clock.now().astimezone(zone).date()

    def refused(error, call) -> None:
        """A refusal writes nothing."""
        before = services.points_repository.get_balance(member_id)
        with pytest.raises(error):
            call()
        after = services.points_repository.get_balance(member_id)
        assert (after and (after.version, after.ledger_seq)) == (before and (before.version, before.ledger_seq))

    def sweep(trial: Wallet) -> bool:
        due = [p for p in payments if p.status == "reserved" and p.held_until <= clock.now()]
        assert services.points_payments.release_expired() == {"released": len(due), "failed": 0, "complete": True}
        for payment in due:
            trial.expire(today())
            trial.reserved -= payment.points
            trial.come_back(payment, today())
            payment.status = "expired"
        return bool(due)

    for step, op in enumerate(operations):
        kind = op[0]
        trial = copy.deepcopy(model)  # becomes the model when the step wrote something
        wrote = False
        if kind == "earn":
            _kind, store_id, amount = op
            occurred_at = clock.now() - timedelta(hours=1)
            body = purchase_body(f"O-{tag}-{step}", line(unit_price=f"{amount}.00"), store_id=store_id,
                                 occurred_at=occurred_at)
            outcome = services.points_service.earn_purchase(member_id, PurchaseRequest.model_validate(body),
                                                            TILLS[store_id])
            assert outcome.created and outcome.result.body()["points"] == amount
            month = expiry_month(occurred_at.astimezone(zone).date(), expiry) if expiry else None
            trial.expire(today())
            trial.earn(amount, month)
            earned.append(Earned(body["order_id"], store_id, amount))
            wrote = True
        elif kind == "return" and any(not e.returned for e in earned):
            open_orders = [e for e in earned if not e.returned]
            purchase = open_orders[op[1] % len(open_orders)]
            body = {"return_id": f"R-{tag}-{step}", "order_id": purchase.order_id, "store_id": purchase.store_id,
                    "returning_store_id": purchase.store_id, "occurred_at": clock.now().isoformat(),
                    "whole_order": True}
            outcome = services.points_service.record_return(member_id, ReturnRequest.model_validate(body),
                                                            TILLS[purchase.store_id])
            assert outcome.created and outcome.result.body()["points"] == purchase.points
            trial.expire(today())
            trial.claw_back(purchase.points)
            purchase.returned = wrote = True
        elif kind == "redeem":
            _kind, reward_id, quantity, store_id = op
            cost, stock = REWARDS[reward_id]
            points = cost * quantity
            request = RedemptionRequest(redemption_id=f"RD-{tag}-{step}", reward_id=reward_id, store_id=store_id,
                                        channel="pos", quantity=quantity)
            call = lambda: services.redemptions.redeem(member_id, request, TILLS[store_id])  # noqa: E731
            trial.expire(today())
            error = trial.refusal(points) or (
                RewardOutOfStock if stock is not None and trial.stock[reward_id] < quantity else None)
            if error:
                refused(error, call)
            else:
                outcome = call()
                assert outcome.created and outcome.result.points == points
                months = trial.lose(points)
                if stock is not None:
                    trial.stock[reward_id] -= quantity
                redemptions.append(Spent(request.redemption_id, points, months, store_id, "open", request,
                                         outcome.result))
                wrote = True
        elif kind == "redeem_again" and redemptions:
            redemption = redemptions[op[1] % len(redemptions)]
            again = services.redemptions.redeem(member_id, redemption.request, TILLS[redemption.store_id])
            assert not again.created and again.result == redemption.result
        elif kind == "cancel" and redemptions:
            candidates = [r for r in redemptions if r.status == "open"] or redemptions  # else: cancel again
            redemption = candidates[op[1] % len(candidates)]
            outcome = services.redemptions.cancel(member_id, redemption.key, TILLS[redemption.store_id])
            assert outcome.result.status == "cancelled" and outcome.result.points_returned == redemption.points
            assert outcome.created == (redemption.status == "open")
            if outcome.created:
                trial.expire(today())
                trial.come_back(redemption, today())
                reward_id = redemption.request.reward_id
                if reward_id in trial.stock:
                    trial.stock[reward_id] += redemption.request.quantity
                redemption.status = "cancelled"
                wrote = True
        elif kind == "reserve":
            points = max(trial.available * op[1] // 100, 10)
            request = PointsPaymentRequest.model_validate({
                "payment_id": f"P-{tag}-{step}", "store_id": "SH-JINGAN", "order_id": f"PO-{tag}-{step}",
                "channel": "pos", "currency": "CNY", "order_total": "1000.00", "points": points})
            call = lambda: services.points_payments.reserve(member_id, request, POS)  # noqa: E731
            trial.expire(today())
            error = trial.refusal(points)
            if error:
                refused(error, call)
            else:
                outcome = call()
                assert outcome.created and outcome.result.status == "reserved"
                months = trial.lose(points)
                trial.reserved += points
                payments.append(Spent(request.payment_id, points, months, "SH-JINGAN", "reserved",
                                      held_until=clock.now() + timedelta(minutes=HOLD_MINUTES)))
                wrote = True
        elif kind in ("capture", "void") and payments:
            candidates = [p for p in payments if p.status == "reserved"] or payments  # else: settled before
            payment = candidates[op[1] % len(candidates)]
            act = services.points_payments.capture if kind == "capture" else services.points_payments.void
            call = lambda: act(member_id, payment.key, POS)  # noqa: E731
            settled = {"captured": "captured", "voided": "voided", "expired": "voided"}.get(payment.status)
            wanted = "captured" if kind == "capture" else "voided"
            if settled is not None and settled != wanted:
                refused(PaymentAlreadyVoided if settled == "voided" else PaymentAlreadyCaptured, call)
            else:
                outcome = call()
                assert outcome.created == (payment.status == "reserved")
                if outcome.created:
                    trial.expire(today())
                    trial.reserved -= payment.points
                    if kind == "void":
                        trial.come_back(payment, today())
                    payment.status = wanted
                    wrote = True
                assert outcome.result.status == payment.status
        elif kind == "sweep":
            clock.advance(minutes=op[1])
            wrote = sweep(trial)
        elif kind == "wait":
            clock.advance(minutes=HOLD_MINUTES + 1)  # the sweep runs every few minutes: it releases every hold
            wrote = sweep(trial)
            clock.advance(days=op[1])
            assert services.points_payments.release_expired()["released"] == 0
        if wrote:
            model = trial
        check_spending(services, member_id, model, policy, ledger, today())
    for reward_id, left in model.stock.items():
        assert services.reward_catalogue.get(reward_id, ADMIN).stock_left == left
    whole = services.points_queries.ledger(member_id, POS, limit=100).body()["items"]
    assert whole == ledger  # entries once written never change


def check_spending(services, member_id: str, model: Wallet, policy: DebtPolicy, ledger: list[dict], today) -> None:
    """The stored balance matches the model, nothing is negative that may not be, the expiry months and
    earning stores sum to the positive part of available, and the ledger explains every part. The balance
    read shows it as of today (months that ended since the last write left out, nothing written), so the
    view is checked against the model as of today too. `ledger` holds the entries read so far, newest
    first; the step's new ones are read and added."""
    as_of_today = copy.deepcopy(model)
    as_of_today.expire(today)
    view = services.points_queries.balance(member_id, POS).body()
    assert (view["available"], view["reserved"], view["debt"], view["pending"]) == \
        (as_of_today.available, as_of_today.reserved, as_of_today.debt, 0)
    assert view["reserved"] >= 0 and view["debt"] >= 0
    stored = services.points_repository.get_balance(member_id)
    if stored is None:
        assert ledger == []
        return
    assert (stored.available, stored.reserved, stored.debt, stored.pending) == \
        (model.available, model.reserved, model.debt, 0)
    if policy == DebtPolicy.DEBT:
        assert stored.available >= 0 and view["available"] >= 0
        assert stored.debt == 0 or stored.available == 0  # debt is repaid before points stay available
    assert stored.buckets == model.buckets
    assert min([0, *stored.buckets.values(), *stored.origins.values()]) == 0
    assert sum(stored.origins.values()) == max(stored.available, 0)
    assert sum(stored.buckets.values()) == (max(stored.available, 0) if model.expiry_months else 0)

    new = stored.ledger_seq - len(ledger)
    if new:
        ledger[:0] = services.points_queries.ledger(member_id, POS, limit=new).body()["items"]
    assert [e["seq"] for e in ledger] == list(range(stored.ledger_seq, 0, -1))
    parts = {"available": stored.available, "reserved": stored.reserved, "pending": stored.pending,
             "debt": stored.debt}
    for part, value in parts.items():
        assert sum(e[f"{part}_change"] for e in ledger) == value, part
    assert all(e["points"] == e["available_change"] + e["pending_change"] + e["reserved_change"] for e in ledger)
    if ledger:
        newest = ledger[0]
        assert (newest["balance_after"], newest["reserved_after"], newest["pending_after"], newest["debt_after"]) == \
            (stored.available, stored.reserved, stored.pending, stored.debt)


@PROPERTY_SETTINGS
@given(policy=st.sampled_from(list(DebtPolicy)), expiry=st.sampled_from([None, 1]),
       opening=st.tuples(st.integers(50, 300), st.integers(50, 300)),
       operations=st.lists(spending_operation, min_size=4, max_size=16))
def test_spending_keeps_the_ledger_and_the_balance_consistent(services, clock, policy, expiry, opening, operations):
    """Opening purchases in Shanghai and Hangzhou give the spending steps something to spend."""
    steps = [("earn", "SH-JINGAN", opening[0]), ("earn", "HZ-XIHU", opening[1]), *operations]
    with own_table(services, clock, debt_policy=policy.value, expiry_months=expiry) as scoped:
        run_spending(scoped, clock, steps, policy=policy, expiry=expiry)
