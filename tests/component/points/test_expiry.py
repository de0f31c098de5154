"""The daily expiry job on moto: the schedule hands the expiry index's due partitions to the expiry queue,
the worker expires and announces through the one ledger operation, reads only members it has work for,
hands the rest of a partition on when its time runs low, resumes after a failure and never does anything
twice."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

import points
import points_expiry
import points_expiry_worker
from local.pollers import sqs_event
from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.points.dynamo import EXPIRY_SHARDS, expiry_partition, expiry_shard
from loyalty.points.ports import ExpiryTask
from tests.component.points.conftest import ago, call, enroll, line, purchase_body, set_rules
from tests.conftest import BACKOFFICE, LambdaContext

EVENTS = Path(__file__).parents[3] / "events"
SCHEDULED = json.loads((EVENTS / "points_expiry/scheduled.json").read_text())
POINTS = "/v1/members/{member_id}/points"
LEDGER = "/v1/members/{member_id}/ledger"


def shanghai(year, month, day, hour=0, minute=5) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


@pytest.fixture(autouse=True)
def one_month(services):
    set_rules(services, expiry_months=1)  # points earned in November expire at the end of December


@pytest.fixture
def queue(services, aws):
    return Queue(aws["queue_urls"]["ExpiryQueue"])


class Queue:
    """The expiry queue as its event source mapping delivers it: one message per invocation of the worker,
    failed messages back at once (instead of after the visibility timeout)."""

    def __init__(self, url: str):
        self.sqs = boto3.client("sqs")
        self.url = url
        self.arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, count: int = 10) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=count, AttributeNames=["All"],
                                        MessageAttributeNames=["All"]).get("Messages", [])

    def tasks(self) -> list[ExpiryTask]:
        """Take every message off the queue, as tasks."""
        found = []
        while batch := self.receive():
            found += [ExpiryTask.model_validate_json(m["Body"]) for m in batch]
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        return found

    def deliver(self, ctx, limit: int = 2000) -> list[dict]:
        """Run the worker on each message until the queue is empty; its answers."""
        answers = []
        for _ in range(limit):
            messages = self.receive(1)
            if not messages:
                return answers
            answer = points_expiry_worker.handler(sqs_event(self.arn, messages), ctx)
            answers.append(answer)
            if answer["batchItemFailures"]:
                self.sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=messages[0]["ReceiptHandle"],
                                                   VisibilityTimeout=0)
            else:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=messages[0]["ReceiptHandle"])
        raise AssertionError("the queue did not empty")


def members_in_one_shard(services, chosen_ids, count: int, shard: int = 5) -> list[str]:
    """`count` members enrolled with ids (sorted) that fall into the same expiry shard."""
    from loyalty.kernel.ids import new_id
    from tests.conftest import enroll_as

    ids = []
    while len(ids) < count:
        candidate = new_id("mbr")
        if expiry_shard(candidate) == shard:
            ids.append(candidate)
    return sorted(enroll_as(services, chosen_ids, member_id, f"1370000{index:04d}")
                  for index, member_id in enumerate(ids))


def buy(ctx, member_id, order_id, clock, quantity=1):
    status, result = call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member_id,
                          body=purchase_body(order_id, line(quantity=quantity), occurred_at=ago(clock, hours=1)))
    assert status == 201, result


def balance_item(services, member_id) -> dict:
    return services.table.get_item(Key={"PK": f"MEMBER#{member_id}", "SK": "POINTS"})["Item"]


def run_day(ctx, clock, queue, moment: datetime) -> dict:
    """The schedule fires at `moment`, having fired every day before (the tests do not pay for the
    partitions of the days in between: they are the same queries); the worker takes every task."""
    from loyalty.wiring import services

    clock.current = moment
    expiry = services().points_expiry
    expiry._index.set_dispatched_through(expiry.today() - timedelta(days=1))
    dispatched = points_expiry.handler(SCHEDULED, ctx)
    queue.deliver(ctx)
    return dispatched


def of_type(publisher, detail_type: str) -> list:
    return [e for e in publisher.events if e.detail_type == detail_type]


def test_a_dormant_members_points_are_announced_then_expired_by_the_daily_job(services, member, ctx, clock, queue,
                                                                              publisher):
    buy(ctx, member, "O-1", clock)  # 100 points, expiring on 31 December
    item = balance_item(services, member)
    assert (item["GSI3PK"], item["GSI3SK"]) == (expiry_partition(date(2026, 12, 1), expiry_shard(member)), member)
    assert item["expiry_check_on"] == "2026-12-01"  # the notice day: 30 days before 31 December

    run_day(ctx, clock, queue, shanghai(2026, 11, 30))
    assert of_type(publisher, "PointsExpiringSoon.v1") == []
    dispatched = run_day(ctx, clock, queue, shanghai(2026, 12, 1))
    assert dispatched["days"] == ["2026-12-01"] and dispatched["tasks"] == EXPIRY_SHARDS
    [notice] = of_type(publisher, "PointsExpiringSoon.v1")
    assert notice.detail == {"member_id": member, "month": "2026-12", "expires_on": "2026-12-31", "points": 100}
    assert balance_item(services, member)["GSI3PK"] == expiry_partition(date(2027, 1, 1), expiry_shard(member))

    run_day(ctx, clock, queue, shanghai(2026, 12, 31, 23, 59))  # the last day: nothing expires yet
    assert of_type(publisher, "PointsExpired.v1") == []
    run_day(ctx, clock, queue, shanghai(2027, 1, 1))
    [expired] = of_type(publisher, "PointsExpired.v1")
    assert expired.detail == {"member_id": member, "points": 100, "months": ["2026-12"], "origins": {"SH-JINGAN": 100}}
    after = balance_item(services, member)
    assert (after["available"], after["buckets"]) == (0, {})
    assert "GSI3PK" not in after  # nothing left to expire: out of the sparse index
    ledger = call(points, ctx, "GET", LEDGER, member_id=member)[1]["items"]
    assert [(e["type"], e["points"], e.get("origins")) for e in ledger] == [
        ("expiry", -100, {"SH-JINGAN": -100}), ("earn", 100, None)]
    assert of_type(publisher, "PointsExpiringSoon.v1") == [notice]  # announced once


def test_running_the_job_twice_expires_and_announces_nothing_twice(services, member, ctx, clock, queue, publisher):
    buy(ctx, member, "O-1", clock)
    for moment in (shanghai(2026, 12, 1), shanghai(2027, 1, 1)):
        clock.current = moment
        services.expiry_index.set_dispatched_through(services.points_expiry.today() - timedelta(days=1))
        assert points_expiry.handler(SCHEDULED, ctx)["tasks"] == EXPIRY_SHARDS
        assert points_expiry.handler(SCHEDULED, ctx)["tasks"] == 0  # the day was handed out already
        tasks = queue.tasks()
        for task in tasks + tasks:  # every task done twice over
            services.points_expiry.run(task)
    partition = ExpiryTask(day=date(2027, 1, 1), shard=expiry_shard(member))
    assert services.points_expiry.expire_member(member) is None
    assert services.points_expiry.run(partition).members == 0
    assert len(of_type(publisher, "PointsExpired.v1")) == 1
    assert len(of_type(publisher, "PointsExpiringSoon.v1")) == 1
    ledger = call(points, ctx, "GET", LEDGER, member_id=member)[1]["items"]
    assert [e["type"] for e in ledger] == ["expiry", "earn"]
    assert call(points, ctx, "GET", POINTS, member_id=member)[1]["available"] == 0


def test_the_job_reads_only_the_members_it_has_work_for(services, ctx, clock, queue, warm_requests):
    members = [enroll(services) for _ in range(12)]
    set_rules(services, expiry_months=3, expiry_notice_days=0)
    for index, member_id in enumerate(members[:10]):
        buy(ctx, member_id, f"O-{index}", clock)  # expire at the end of February: not read in January
    set_rules(services, expiry_months=1)
    for index, member_id in enumerate(members[10:]):
        buy(ctx, member_id, f"P-{index}", clock)  # expire at the end of December
    warm_requests.clear()
    run_day(ctx, clock, queue, shanghai(2027, 1, 1))
    read = [key["PK"] for name, params in warm_requests if name == "BatchGetItem"
            for key in params["RequestItems"]["loyalty-main"]["Keys"]]
    assert sorted(read) == sorted(f"MEMBER#{m}" for m in members[10:])
    queries = [params for name, params in warm_requests if name == "Query"]
    assert {q["IndexName"] for q in queries} == {"GSI3"} and len(queries) == EXPIRY_SHARDS
    assert [call(points, ctx, "GET", POINTS, member_id=m)[1]["available"] for m in members] == [100] * 10 + [0, 0]


def test_a_worker_short_of_time_hands_the_rest_of_its_partition_on(services, chosen_ids, ctx, clock, queue,
                                                                   publisher):
    members = members_in_one_shard(services, chosen_ids, 4)
    for index, member_id in enumerate(members):
        buy(ctx, member_id, f"O-{index}", clock)
    clock.current = shanghai(2027, 1, 1)
    budget = iter([True, True])  # time for two members, then no more
    first = services.points_expiry.run(ExpiryTask(day=date(2026, 12, 1), shard=5),
                                       should_continue=lambda: next(budget, False))
    assert (first.members, first.continued, first.failed, first.incomplete) == (2, True, 0, False)
    [handed_on] = queue.tasks()
    assert (handed_on.day, handed_on.shard, handed_on.after is not None) == (date(2026, 12, 1), 5, True)
    rest = services.points_expiry.run(handed_on)
    assert (rest.members, rest.continued) == (2, False)
    assert sorted(e.detail["member_id"] for e in of_type(publisher, "PointsExpired.v1")) == members


def test_the_worker_hands_on_when_the_lambda_runs_low_on_time(services, chosen_ids, ctx, clock, queue):
    members = members_in_one_shard(services, chosen_ids, 3)
    for index, member_id in enumerate(members):
        buy(ctx, member_id, f"O-{index}", clock)
    clock.current = shanghai(2027, 1, 1)
    remaining = iter([300_000])

    class ShortOfTime(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return next(remaining, 15_000)  # under the worker's safety margin after the first member

    queue.sqs.send_message(QueueUrl=queue.url, MessageBody=ExpiryTask(day=date(2026, 12, 1), shard=5)
                           .model_dump_json())
    [message] = queue.receive(1)
    answer = points_expiry_worker.handler(sqs_event(queue.arn, [message]), ShortOfTime())
    assert answer["batchItemFailures"] == []  # its own message is done: the rest is another one now
    queue.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    assert [balance_item(services, m)["available"] for m in members] == [0, 100, 100]
    assert len(queue.deliver(ctx)) == 1
    assert [balance_item(services, m)["available"] for m in members] == [0, 0, 0]


def test_a_worker_with_no_time_for_anyone_fails_its_task_rather_than_repeat_it(services, member, ctx, clock, queue):
    buy(ctx, member, "O-1", clock)
    clock.current = shanghai(2027, 1, 1)
    run = services.points_expiry.run(ExpiryTask(day=date(2026, 12, 1), shard=expiry_shard(member)),
                                     should_continue=lambda: False)
    assert (run.members, run.continued, run.incomplete) == (0, False, True)
    assert queue.tasks() == []
    answer = points_expiry_worker.handler(sqs_event(queue.arn, [{
        "MessageId": "m-1", "ReceiptHandle": "r-1", "Body": ExpiryTask(day=date(2026, 12, 1), shard=expiry_shard(member))
        .model_dump_json()}]), NoTimeLeft())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


class NoTimeLeft(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 1_000


def test_a_member_that_keeps_failing_fails_the_task_which_then_resumes(services, chosen_ids, ctx, clock, queue,
                                                                     monkeypatch):
    members = members_in_one_shard(services, chosen_ids, 2)
    for index, member_id in enumerate(members):
        buy(ctx, member_id, f"O-{index}", clock)
    clock.current = shanghai(2027, 1, 1)
    expire = services.points_expiry.expire_member
    stuck = {members[0]}

    def flaky(member_id):
        if member_id in stuck:
            stuck.discard(member_id)
            raise ConcurrentUpdate("the member's points changed repeatedly")
        return expire(member_id)

    monkeypatch.setattr(services.points_expiry, "expire_member", flaky)
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody=ExpiryTask(day=date(2026, 12, 1), shard=5).model_dump_json())
    answers = queue.deliver(ctx)
    assert [len(a["batchItemFailures"]) for a in answers] == [1, 0]  # failed once, then done from where it started
    assert [balance_item(services, m)["available"] for m in members] == [0, 0]


def test_a_malformed_task_fails_alone(services, ctx, queue):
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody='{"day": "yesterday", "shard": 1}')
    [message] = queue.receive(1)
    answer = points_expiry_worker.handler(sqs_event(queue.arn, [message]), ctx)
    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def run_shard(services, clock, member_id, moment: datetime):
    """The day's task for the member's shard only (what the schedule would hand out that day)."""
    clock.current = moment
    day = services.points_expiry.today()
    return services.points_expiry.run(ExpiryTask(day=day, shard=expiry_shard(member_id)))


def test_each_month_is_announced_even_when_the_soonest_one_is_still_to_expire(services, member, ctx, clock,
                                                                              publisher):
    clock.current = shanghai(2026, 12, 5, 12, 0)
    buy(ctx, member, "O-1", clock)  # December: ends 31 January
    clock.current = shanghai(2027, 1, 2, 12, 0)
    buy(ctx, member, "O-2", clock, quantity=2)  # January: ends 28 February, whose notice day (29 January)
    days = [shanghai(2027, 1, d) for d in range(3, 32)] + [shanghai(2027, 2, d) for d in range(1, 29)]
    for moment in days:  # comes while January's points are still the soonest to expire
        run_shard(services, clock, member, moment)
    notices = [(e.detail["month"], e.detail["points"], e.occurred_at)
               for e in of_type(publisher, "PointsExpiringSoon.v1")]
    # January's notice day (1 January) had passed when the second purchase was written: it went out the next day
    assert notices == [("2027-01", 100, shanghai(2027, 1, 3)), ("2027-02", 200, shanghai(2027, 1, 29))]
    [expired] = of_type(publisher, "PointsExpired.v1")
    assert (expired.detail["months"], expired.occurred_at) == (["2027-01"], shanghai(2027, 2, 1))


def test_spending_the_soonest_month_moves_the_member_to_the_next_months_notice(services, member, ctx, clock, queue,
                                                                               publisher):
    buy(ctx, member, "O-1", clock)  # 100 points ending 31 December
    clock.current = shanghai(2026, 12, 5, 12, 0)
    buy(ctx, member, "O-2", clock, quantity=2)  # 200 ending 31 January
    status, _ = call(points, ctx, "POST", "/v1/members/{member_id}/adjustments", member_id=member,
                     client=BACKOFFICE, body={"adjustment_id": "A-1", "points": -100, "reason": "spent elsewhere"})
    assert status == 201
    assert balance_item(services, member)["expiry_check_on"] == "2027-01-01"  # December is empty now
    run_day(ctx, clock, queue, shanghai(2027, 1, 1))
    [notice] = of_type(publisher, "PointsExpiringSoon.v1")
    assert (notice.detail["month"], notice.detail["points"]) == ("2027-01", 200)


def test_days_the_schedule_missed_are_caught_up(services, member, ctx, clock, queue, publisher):
    buy(ctx, member, "O-1", clock)
    run_day(ctx, clock, queue, shanghai(2026, 12, 1))  # the notice goes out
    run_day(ctx, clock, queue, shanghai(2026, 12, 30))
    clock.current = shanghai(2027, 1, 3)  # the job did not run on 31 December, 1 and 2 January
    dispatched = services.points_expiry.dispatch()
    assert [d.isoformat() for d in dispatched.days] == ["2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03"]
    for task in queue.tasks():
        services.points_expiry.run(task)
    [expired] = of_type(publisher, "PointsExpired.v1")
    assert expired.detail["months"] == ["2026-12"]
    assert balance_item(services, member)["available"] == 0


def test_the_first_dispatch_looks_a_week_back(services, clock, queue):
    clock.current = shanghai(2027, 1, 10)
    dispatched = services.points_expiry.dispatch()
    assert (dispatched.days[0], dispatched.days[-1], dispatched.tasks) == (date(2027, 1, 3), date(2027, 1, 10),
                                                                           8 * EXPIRY_SHARDS)
    assert len(queue.tasks()) == 8 * EXPIRY_SHARDS
    assert services.points_expiry.dispatch().tasks == 0


def test_never_expiring_points_are_not_in_the_index(services, member, ctx, clock):
    set_rules(services, expiry_policy="never")
    buy(ctx, member, "O-1", clock)
    item = balance_item(services, member)
    assert "GSI3PK" not in item and "expiry_check_on" not in item and item["buckets"] == {}


def test_end_of_next_year_points_expire_on_the_last_day_of_the_next_year(services, member, ctx, clock, queue,
                                                                          publisher):
    set_rules(services, expiry_policy="end_of_next_year")
    buy(ctx, member, "O-1", clock)
    assert balance_item(services, member)["expiry_check_on"] == "2027-12-01"
    assert call(points, ctx, "GET", POINTS, member_id=member)[1]["expiring"] == [
        {"month": "2027-12", "expires_on": "2027-12-31", "points": 100}]
    clock.current = shanghai(2028, 1, 1)
    services.points_expiry.run(ExpiryTask(day=date(2027, 12, 1), shard=expiry_shard(member)))
    assert [e.detail["months"] for e in of_type(publisher, "PointsExpired.v1")] == [["2027-12"]]
