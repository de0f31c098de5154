"""Benchmark of the daily expiry job on DynamoDB Local: 100,000 members' balances, 1% of them with points
due today; how many items the job reads, what it writes and bills, and how long it takes.

    make bench-expiry            # or: .venv/bin/python -m bench.expiry [--members 100000] [--due 0.01]

The balances are seeded with batch writes (several threads, 25 items a call), in the adapter's own item
format, each with its expiry index keys: the due members' index day is today and they hold points of a
month that ended yesterday plus points of this month (which the job announces: they end within the 30
notice days); the others' index days are spread over the next year. Then, at 00:05 in Shanghai on the
1st of the month, the job runs in process as on Lambda, one task after another: the schedule's dispatch
(today's 16 partitions; the watermark says yesterday was done) and each task through the real worker use
case over the real DynamoDB adapter, with a meter on the boto3 client (bench/meter.py). Printed: the index
items and balances read, items written, capacity as DynamoDB bills it, time. Figures only."""
from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
import time
import zlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3

from bench.meter import DynamoMeter
from infra.resources import TABLE
from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 1, 1)  # the job runs at 00:05 in Shanghai on the 1st: December's points have just ended
RUN_AT = datetime(2027, 1, 1, 0, 5, tzinfo=ZONE).astimezone(timezone.utc)


class Clock:
    def __init__(self, now: datetime):
        self.current = now

    def now(self) -> datetime:
        return self.current


class DiscardingPublisher:
    def publish(self, events) -> None:
        pass


class InProcessWork:
    """The expiry queue, in process: tasks are kept in order and taken one by one."""

    def __init__(self):
        self.tasks = []

    def send(self, tasks) -> None:
        self.tasks.extend(tasks)


def member_id(index: int) -> str:
    """An id shaped like the platform's (26 Crockford base32 characters), spread as random ones are."""
    digest = int.from_bytes(hashlib.sha256(index.to_bytes(8, "big")).digest()[:17], "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "mbr_" + "".join(alphabet[(digest >> (5 * n)) & 31] for n in range(26))


def balance_item(index: int, due: bool) -> dict:
    """A balance in the adapter's format (loyalty.points.dynamo), with its expiry index keys."""
    from loyalty.platform.dynamo import drop_none
    from loyalty.points.dynamo import balance_key, expiry_index_keys
    from loyalty.points.ledger import PointsBalance

    mid = member_id(index)
    if due:  # 40 points that ended with December (expire today), 60 of January (announced today)
        buckets, check = {"2026-12": 40, "2027-01": 60}, TODAY
    else:  # points of a month that ends later; the job next looks at the member some day of the coming year
        check = TODAY + timedelta(days=1 + zlib.crc32(mid.encode()) % 365)
        month = (check + timedelta(days=30)).strftime("%Y-%m")
        buckets = {month: 100}
    balance = PointsBalance(member_id=mid, available=100, lifetime_earned=100, purchase_count=1, buckets=buckets,
                            origins={"SH-JINGAN": 100}, version=1, ledger_seq=1,
                            updated_at=datetime(2026, 6, 1, tzinfo=timezone.utc), expiry_check_on=check)
    return {**balance_key(mid), "entity": "points_balance", **drop_none(balance.model_dump(mode="json")),
            **expiry_index_keys(balance)}


def seed(members: int, due_every: int, threads: int = 4) -> float:
    """Batch-write the balances from `threads` threads; returns the seconds it took."""
    started = time.monotonic()
    done = Counter()

    def write(part: int) -> None:
        table = boto3.session.Session().resource("dynamodb").Table(TABLE.name)
        with table.batch_writer() as batch:
            for index in range(part, members, threads):
                batch.put_item(Item=balance_item(index, due=index % due_every == 0))
                done[part] += 1

    workers = [threading.Thread(target=write, args=(part,)) for part in range(threads)]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        time.sleep(5)
        print(f"  {sum(done.values()):,} balances written ({time.monotonic() - started:.0f} s)", flush=True)
    for worker in workers:
        worker.join()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--due", type=float, default=0.01, help="share of the members with points due today")
    parser.add_argument("--threads", type=int, default=4, help="threads seeding the balances")
    args = parser.parse_args(argv)
    due_every = max(1, round(1 / args.due))

    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-expiry-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"), stream=False)  # the job needs no stream; seeding goes faster
        from loyalty.platform.settings import CoreSettings
        from loyalty.points.dynamo import DynamoExpiryIndex
        from loyalty.points.expiry import PointsExpiry
        from loyalty.points.ports import ExpiryTask
        from loyalty.wiring import Services

        print(f"seeding {args.members:,} balances, every {due_every}th with points due on {TODAY}...", flush=True)
        seconds = seed(args.members, due_every, args.threads)
        due = len(range(0, args.members, due_every))
        print(f"seeded in {seconds:.0f} s ({args.members / seconds:,.0f} balances/s)")

        table = boto3.resource("dynamodb").Table(TABLE.name)
        clock = Clock(RUN_AT)
        services = Services(table=table, publisher=DiscardingPublisher(), clock=clock,
                            settings=CoreSettings(table_name=TABLE.name, event_bus_name="unused",
                                                  default_country_code="86"))
        work = InProcessWork()
        index = DynamoExpiryIndex(table)
        expiry = PointsExpiry(repo=services.points_repository, index=index, rules=services.program_rules,
                              clock=clock, work=work)
        index.set_dispatched_through(TODAY - timedelta(days=1))  # the job ran yesterday
        services.program_rules.current()  # warm, as a container is after its first task
        meter = DynamoMeter(table.meta.client)

        runs = []
        with meter.measure() as dispatch_cost:
            dispatched = expiry.dispatch()
        with meter.measure() as cost:
            while work.tasks:
                runs.append(expiry.run(work.tasks.pop(0)))
        totals = Counter()
        for run in runs:
            totals.update({"members": run.members, "expired_members": run.expired_members,
                           "expired_points": run.expired_points, "notices": run.notices,
                           "unchanged": run.unchanged, "failed": run.failed})
        queries = cost.calls.get("Query", 0)
        query_charges = [c for c in cost.charges if c.operation.startswith("Query")]
        index_items = sum(int(c.operation.split("(")[1].split()[0]) for c in query_charges)
        index_units = sum(c.units for c in query_charges)
        print()
        print(f"| members | with points due | index partitions queried | index items read | balances read "
              f"| items written | billed RCU | billed WCU | expired members | notices | seconds | members/s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {args.members:,} | {due:,} | {queries} ({dispatched.tasks} tasks) | {index_items:,} "
              f"| {cost.keys_read:,} | {cost.items_written:,} | {cost.billed_read_units:g} "
              f"| {cost.billed_write_units:g} | {totals['expired_members']:,} | {totals['notices']:,} "
              f"| {cost.seconds:.1f} | {totals['members'] / cost.seconds:,.0f} |")
        print()
        print(f"dispatch: {dict(dispatch_cost.calls)}, {dispatched.tasks} tasks for "
              f"{[d.isoformat() for d in dispatched.days]}")
        print(f"calls during the tasks: {dict(sorted(cost.calls.items()))}")
        print(f"the index queries: {index_items:,} items, {sum(c.size for c in query_charges):,} bytes, "
              f"{index_units:g} RCU; the balances: {cost.billed_read_units - index_units:g} RCU")
        print(f"tasks: {len(runs)}; members per partition: {sorted(r.members for r in runs)}; "
              f"points expired: {totals['expired_points']:,}; unchanged: {totals['unchanged']}; "
              f"failed: {totals['failed']}")
        writes = Counter(c.operation for c in cost.charges if c.write)
        print(f"writes by kind: {dict(writes)}")
        print(f"a Scan of the table instead would read all {args.members:,} balances (and every other item)")

        with meter.measure() as again:  # the same day's tasks once more: nothing is left in them
            for shard in range(index.shards):
                expiry.run(ExpiryTask(day=TODAY, shard=shard))
        print(f"running today's tasks again: {again.items_found} items read, {again.items_written} written "
              f"({dict(again.calls)})")
    finally:
        dynamodb.stop()


if __name__ == "__main__":
    main()
