"""The DynamoDB adapter's own guarantees: the conditions in each transaction refuse stale writes."""
from __future__ import annotations

from datetime import date

import pytest

from loyalty.points.dynamo import DynamoPointsRepository
from loyalty.kernel.identity import ClientIdentity
from loyalty.kernel.errors import IdempotencyKeyReused
from loyalty.points.errors import ActivityCapReached
from loyalty.kernel.idempotency import IdempotencyClaim, IdempotentReplay
from loyalty.points.requests import PurchaseRequest
from loyalty.points.ledger import BalanceDraft, EntryType, Reference
from loyalty.points.ports import CounterIncrement, StaleSnapshot, WritePlan
from tests.component.points.conftest import ago, line, purchase_body
from tests.conftest import POS_SH


@pytest.fixture
def repo(services) -> DynamoPointsRepository:
    return DynamoPointsRepository(services.table)


def bought(services, member_id, clock, quantity=2):
    request = PurchaseRequest.model_validate(
        purchase_body("O-1", line(sku="TEE", quantity=quantity), occurred_at=ago(clock, hours=1)))
    services.points_service.earn_purchase(member_id, request, ClientIdentity.from_context(POS_SH))


def credit_plan(services, snapshot, clock, points=10, **plan) -> WritePlan:
    draft = BalanceDraft(snapshot.balance, rules=services.program_rules.current(), now=clock.now())
    draft.credit(points, entry_type=EntryType.ADJUSTMENT, reference=Reference(kind="adjustment", id="x"),
                 reason="test", occurred_at=clock.now())
    return WritePlan(balance_before=snapshot.balance, balance_after=draft.finish(), entries=draft.entries, **plan)


def test_a_write_based_on_a_stale_balance_is_refused(services, repo, member, clock):
    snapshot = repo.load(member)
    repo.commit(credit_plan(services, snapshot, clock))
    with pytest.raises(StaleSnapshot):
        repo.commit(credit_plan(services, snapshot, clock))
    assert repo.get_balance(member).available == 10


def test_the_purchase_item_refuses_returning_more_units_than_remain(services, repo, member, clock):
    """Even with a current balance, a return planned on an outdated purchase cannot over-return."""
    bought(services, member, clock, quantity=2)
    snapshot = repo.load(member, purchase=("SH-JINGAN", "O-1"))
    purchase = snapshot.purchase
    lines = [purchase.lines[0].model_copy(update={"returned": 2})]
    all_back = purchase.model_copy(update={"lines": lines, "version": purchase.version + 1})
    repo.commit(credit_plan(services, snapshot, clock, points=0, purchase_returned=(purchase, all_back)))

    stale = repo.load(member)  # current balance, but the purchase as first read
    outdated = purchase.model_copy(update={"version": purchase.version + 1})
    again = outdated.model_copy(update={"lines": lines, "version": outdated.version + 1})
    with pytest.raises(StaleSnapshot):
        repo.commit(credit_plan(services, stale, clock, points=0, purchase_returned=(outdated, again)))
    assert repo.load(member, purchase=("SH-JINGAN", "O-1")).purchase.lines[0].returned == 2


def test_an_activity_counter_refuses_once_full(services, repo, member, clock):
    counter = CounterIncrement("check_in", date(2026, 11, 18), daily_cap=1, monthly_cap=None,
                               keep_until=date(2027, 2, 18))
    repo.commit(credit_plan(services, repo.load(member), clock, counter=counter))
    with pytest.raises(ActivityCapReached) as refused:
        repo.commit(credit_plan(services, repo.load(member), clock, counter=counter))
    assert refused.value.details == {"type": "check_in", "cap": 1, "per": "day"}
    assert repo.get_balance(member).available == 10


def test_one_counter_item_holds_the_month_and_each_day(services, repo, member, clock):
    """Day and month counts of a type live in one item per local month: one item written, not two."""
    def count(day: int):
        counter = CounterIncrement("review", date(2026, 11, day), daily_cap=2, monthly_cap=3,
                                   keep_until=date(2027, 3, 1))
        repo.commit(credit_plan(services, repo.load(member), clock, counter=counter))

    count(17)
    count(18)
    count(18)
    with pytest.raises(ActivityCapReached) as day_full:
        count(18)  # the day's cap (2) and the month's (3) are both reached: the day's is named
    assert day_full.value.details == {"type": "review", "cap": 2, "per": "day"}
    with pytest.raises(ActivityCapReached) as month_full:
        count(19)  # a new day, but the month is full
    assert month_full.value.details == {"type": "review", "cap": 3, "per": "month"}

    item = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "ACTIVITY#review#2026-11"})["Item"]
    assert (item["month_count"], item["d17"], item["d18"], "d19" in item) == (3, 1, 2, False)
    assert item["entity"] == "activity_counter"
    assert [i["SK"] for i in services.table.scan()["Items"] if i["SK"].startswith("ACTIVITY#")] == \
        ["ACTIVITY#review#2026-11"]
    assert repo.get_balance(member).available == 30


def test_the_next_month_has_a_counter_of_its_own(services, repo, member, clock):
    def count(day: date):
        counter = CounterIncrement("survey", day, daily_cap=None, monthly_cap=1, keep_until=date(2027, 3, 1))
        repo.commit(credit_plan(services, repo.load(member), clock, counter=counter))

    count(date(2026, 11, 30))
    with pytest.raises(ActivityCapReached):
        count(date(2026, 11, 1))
    count(date(2026, 12, 1))
    item = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "ACTIVITY#survey#2026-11"})["Item"]
    assert item["month_count"] == 1 and not [k for k in item if k.startswith("d") and k[1:].isdigit()]


def test_a_claim_makes_the_write_happen_once(services, repo, member, clock):
    claim = IdempotencyClaim(scope="adjustment", key="K-1", request_hash="h1", response={"done": 1})
    repo.commit(credit_plan(services, repo.load(member), clock, claim=claim))
    with pytest.raises(IdempotentReplay) as replay:
        repo.commit(credit_plan(services, repo.load(member), clock, claim=claim))
    assert replay.value.response == {"done": 1}
    with pytest.raises(IdempotencyKeyReused):
        repo.commit(credit_plan(services, repo.load(member), clock, claim=claim.model_copy(update={"request_hash": "h2"})))
    claim_item = services.table.get_item(Key={"PK": "IDEMPOTENCY#adjustment#K-1", "SK": "CLAIM"})["Item"]
    assert "expires_at" not in claim_item  # business keys are kept for good
    assert repo.get_balance(member).available == 10


def test_one_batch_read_returns_everything_asked_for(services, repo, member, clock):
    bought(services, member, clock)
    snapshot = repo.load(member, member=True, store_ids=("SH-JINGAN", "NOWHERE"), purchase=("SH-JINGAN", "O-1"),
                         lot_id="none", claim=("purchase:SH-JINGAN", "O-1"))
    assert snapshot.member.member_id == member and snapshot.member.tier == "base"
    assert set(snapshot.stores) == {"SH-JINGAN"}
    assert snapshot.purchase.points == 200 and snapshot.lot is None
    assert snapshot.claim.response["points"] == 200
    assert snapshot.balance.available == 200
