"""Property-based, with expiry on: random purchases, returns, adjustments and days passing, with the
daily expiry job run for every day that passed, keep the ledger explaining the stored balance, the
expiry months holding exactly the positive part of `available`, nothing negative, no ended month left
once the job has run, and the balance read equal to the stored balance then."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from loyalty.points.requests import AdjustmentRequest, PurchaseRequest, ReturnRequest
from loyalty.points.errors import InsufficientPoints, ReturnExceedsPurchase
from loyalty.points.expiry import PointsExpiry
from loyalty.points.ledger import month_end
from loyalty.points.ports import ExpiryTask
from tests.component.points.conftest import enroll, purchase_body, set_rules
from tests.component.points.test_properties import ADMIN, POS, PROPERTY_SETTINGS

_unique = itertools.count()

step = st.one_of(
    st.tuples(st.just("purchase"), st.integers(1, 300)),
    st.tuples(st.just("purchase"), st.integers(1, 300)),
    st.tuples(st.just("return_all"), st.integers(0, 20)),
    st.tuples(st.just("adjust"), st.integers(-200, 150).filter(bool)),
    st.tuples(st.just("wait"), st.integers(1, 45)),
    st.tuples(st.just("wait"), st.integers(1, 45)),
)
# A member who buys first and whose last points have all ended at the end: every example expires some.
steps = st.lists(step, max_size=12).map(lambda ops: [("purchase", 100), *ops, ("wait", 95)])


@contextmanager
def own_table(services, clock, **rules):
    """A fresh table per example (as tests/component/points/test_properties.py does), with `rules`."""
    import boto3

    from local.demo import DEMO_STORES
    from local.provision import create_table
    from loyalty.wiring import Services

    name = f"loyalty-expiry-props-{next(_unique)}"
    create_table(boto3.client("dynamodb"), table_name=name, stream=False)
    scoped = Services(table=boto3.resource("dynamodb").Table(name), publisher=services.publisher, clock=clock,
                      settings=services.settings)
    for store in DEMO_STORES:
        scoped.stores.put_store(store)
    set_rules(scoped, welcome_bonus=0, **rules)
    try:
        yield scoped
    finally:
        boto3.client("dynamodb").delete_table(TableName=name)


class InProcessWork:
    def __init__(self):
        self.tasks = []

    def send(self, tasks) -> None:
        self.tasks.extend(tasks)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(operations=steps, months=st.sampled_from([1, 2]), notice_days=st.sampled_from([0, 10, 30]))
def test_the_ledger_explains_the_balance_while_points_expire(services, clock, operations, months, notice_days):
    with own_table(services, clock, expiry_policy="rolling_months", expiry_months=months,
                   expiry_notice_days=notice_days) as scoped:
        from loyalty.points.dynamo import DynamoExpiryIndex, expiry_shard

        job = PointsExpiry(repo=scoped.points_repository, index=DynamoExpiryIndex(scoped.table),
                           rules=scoped.program_rules, clock=clock, work=InProcessWork())
        member_id = enroll(scoped)
        last_run = job.today() - timedelta(days=1)
        tag = f"{next(_unique)}-{member_id[-6:]}"
        orders = []
        for step, op in enumerate(operations):
            kind = op[0]
            if kind == "purchase":
                order_id = f"O-{tag}-{step}"
                body = purchase_body(order_id, {"sku": "A", "category": "apparel", "quantity": 1,
                                                "unit_price": f"{op[1]}.00", "amount": f"{op[1]}.00"},
                                     occurred_at=clock.now() - timedelta(hours=1))
                scoped.points_service.earn_purchase(member_id, PurchaseRequest.model_validate(body), POS)
                orders.append(order_id)
            elif kind == "return_all" and orders:
                body = {"return_id": f"R-{tag}-{step}", "order_id": orders[op[1] % len(orders)],
                        "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
                        "occurred_at": clock.now().isoformat(), "whole_order": True}
                try:
                    scoped.points_service.record_return(member_id, ReturnRequest.model_validate(body), POS)
                except ReturnExceedsPurchase:
                    pass  # returned already
            elif kind == "adjust":
                request = AdjustmentRequest(adjustment_id=f"J-{tag}-{step}", points=op[1], reason="property test")
                try:
                    scoped.points_service.adjust(member_id, request, ADMIN)
                except InsufficientPoints:
                    pass
            elif kind == "wait":
                clock.advance(days=op[1])
                # The job on each day that passed, for the partition the member is in: its check day, if any
                # (the other partitions do not hold it). Each visit moves the member to a later day.
                while (stored := scoped.points_repository.get_balance(member_id)) is not None \
                        and stored.expiry_check_on is not None and stored.expiry_check_on <= job.today():
                    assert stored.expiry_check_on > last_run
                    last_run = stored.expiry_check_on
                    task = ExpiryTask(day=last_run, shard=expiry_shard(member_id))
                    assert job.run(task).failed == 0
                    assert job.run(task).members == 0  # the same task again finds it gone
                stored = scoped.points_repository.get_balance(member_id)
                if stored is not None:
                    today = job.today()
                    assert all(month_end(m) >= today for m in stored.buckets), stored.buckets
                    assert stored.expiry_check_on is None or stored.expiry_check_on > today
                    read = scoped.points_queries.balance(member_id, POS).body()
                    assert (read["available"], read["pending"], read["debt"]) == (
                        stored.available, stored.pending, stored.debt)
            stored = scoped.points_repository.get_balance(member_id)
            if stored is not None:
                assert sum(stored.buckets.values()) == max(stored.available, 0)
                assert sum(stored.origins.values()) == max(stored.available, 0)
                assert min([0, stored.available, stored.debt, *stored.buckets.values()]) == 0
                assert (stored.expiry_check_on is None) == (not stored.buckets)
        stored = scoped.points_repository.get_balance(member_id)
        if stored is not None:
            check_stored_ledger(scoped, member_id, stored)


def check_stored_ledger(services, member_id, stored) -> None:
    """The ledger explains what is stored (the read may already leave out a month that ended since)."""
    entries, cursor = [], None
    while True:
        page = services.points_queries.ledger(member_id, POS, limit=100, cursor=cursor).body()
        entries += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert sum(e["available_change"] for e in entries) == stored.available
    assert sum(e["pending_change"] for e in entries) == stored.pending
    assert sum(e["debt_change"] for e in entries) == stored.debt
    assert entries[0]["balance_after"] == stored.available
    assert [e["seq"] for e in entries] == list(range(len(entries), 0, -1))
    expired = [e for e in entries if e["type"] == "expiry"]
    assert len({e["reference"]["id"] for e in expired}) == len(expired)  # no month expired twice
    event("points expired" if expired else "nothing expired")

