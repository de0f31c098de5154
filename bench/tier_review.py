"""Benchmark of the daily tier review on DynamoDB Local: 100,000 members' balances carrying a tier standing,
1% of them due for review today; how many items the review reads, what it writes and bills, how long.

    make bench-tiers            # or: .venv/bin/python -m bench.tier_review [--members 100000] [--due 0.01]

The balances are seeded with batch writes, in the points adapter's item format with the tiers' review index
keys (GSI4): the due members hold gold since a year ago with a window that no longer keeps it (their warning
went out), index day today; the others hold bronze, silver or gold with an index day spread over the coming
year, or the lowest tier (not in the index). The due members' profiles are seeded too (the review reads
balance and profile). Then, at 00:30 in Shanghai, the review runs in process as on Lambda, over the real
adapters, with the meter of bench/meter.py on the client; then it runs again. Figures only."""
from __future__ import annotations

import argparse
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

from bench.expiry import Clock, DiscardingPublisher, member_id
from bench.meter import DynamoMeter
from infra.resources import TABLE
from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 1, 15)
RUN_AT = datetime(2027, 1, 15, 0, 30, tzinfo=ZONE).astimezone(timezone.utc)
TIERS = ("bronze", "silver", "gold")


def items(index: int, due: bool) -> list[dict]:
    from loyalty.platform.dynamo import drop_none
    from loyalty.points.dynamo import balance_key
    from loyalty.points.ledger import PointsBalance
    from loyalty.tiers.domain import Standing
    from loyalty.tiers.dynamo import review_index_keys

    mid = member_id(index)
    if due:  # gold a year ago; 1,200 CNY in the window now: reviewed today, down to silver
        standing = Standing(tier="gold", since=TODAY - timedelta(days=365), review_on=TODAY, warned_for=TODAY,
                            check_on=TODAY, months={"2026-08": {"spend": "1200", "visits": 3}})
    elif index % 4 == 0:  # the lowest tier: no review, not in the index
        standing = Standing(tier="base", months={"2026-12": {"spend": "120", "visits": 1}})
    else:
        review_on = TODAY + timedelta(days=31 + zlib.crc32(mid.encode()) % 330)
        standing = Standing(tier=TIERS[index % 3], since=review_on - timedelta(days=365), review_on=review_on,
                            check_on=review_on - timedelta(days=30),
                            months={"2026-12": {"spend": "3500", "visits": 20}})
    body = standing.model_dump(mode="json", exclude_none=True)
    balance = PointsBalance(member_id=mid, available=100, lifetime_earned=100, purchase_count=1,
                            origins={"SH-JINGAN": 100}, version=1, ledger_seq=1, tier_standing=body,
                            updated_at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    found = [{**balance_key(mid), "entity": "points_balance", **drop_none(balance.model_dump(mode="json")),
              **review_index_keys(mid, body)}]
    if due:
        found.append({"PK": f"MEMBER#{mid}", "SK": "PROFILE", "entity": "member", "member_id": mid,
                      "tier": "gold", "status": "active", "version": 1})
    return found


def seed(members: int, due_every: int, threads: int) -> float:
    started = time.monotonic()
    done = Counter()

    def write(part: int) -> None:
        table = boto3.session.Session().resource("dynamodb").Table(TABLE.name)
        with table.batch_writer() as batch:
            for index in range(part, members, threads):
                for item in items(index, due=index % due_every == 0):
                    batch.put_item(Item=item)
                done[part] += 1

    workers = [threading.Thread(target=write, args=(part,)) for part in range(threads)]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        time.sleep(5)
        print(f"  {sum(done.values()):,} members written ({time.monotonic() - started:.0f} s)", flush=True)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--due", type=float, default=0.01, help="share of the members due for review today")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    due_every = max(1, round(1 / args.due))

    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-tiers-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"), stream=False)
        from loyalty.platform.settings import CoreSettings
        from loyalty.wiring import Services

        print(f"seeding {args.members:,} balances, every {due_every}th due for review on {TODAY}...", flush=True)
        seconds = seed(args.members, due_every, args.threads)
        due = len(range(0, args.members, due_every))
        print(f"seeded in {seconds:.0f} s ({args.members / seconds:,.0f} members/s)")

        table = boto3.resource("dynamodb").Table(TABLE.name)
        clock = Clock(RUN_AT)
        services = Services(table=table, publisher=DiscardingPublisher(), clock=clock,
                            settings=CoreSettings(table_name=TABLE.name, event_bus_name="unused",
                                                  default_country_code="86"))
        reviews = services.tier_reviews
        services.tier_ladder.current()
        services.program_rules.current()  # warm, as a container is after its first run
        reviews._index.set_reviewed_through(TODAY - timedelta(days=1))  # the job ran yesterday
        meter = DynamoMeter(table.meta.client)
        with meter.measure() as cost:
            run = reviews.run()
        query_charges = [c for c in cost.charges if c.operation.startswith("Query")]
        index_items = sum(int(c.operation.split("(")[1].split()[0]) for c in query_charges)
        print()
        print("| members | due | index partitions queried | index items read | members read (keys) | items written "
              "| billed RCU | billed WCU | downgraded | seconds | members/s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {args.members:,} | {due:,} | {cost.calls.get('Query', 0)} | {index_items:,} | {cost.keys_read:,} "
              f"| {cost.items_written:,} | {cost.billed_read_units:g} | {cost.billed_write_units:g} "
              f"| {run.downgraded:,} | {cost.seconds:.1f} | {run.members / cost.seconds:,.0f} |")
        print()
        print(f"calls: {dict(sorted(cost.calls.items()))}")
        print(f"run: {run.body()}")
        writes = Counter(c.operation for c in cost.charges if c.write)
        print(f"writes by kind: {dict(writes)}")
        with meter.measure() as again:
            second = reviews.run()
        print(f"running again the same day: {again.items_found} items read, {again.items_written} written "
              f"({dict(again.calls)}), {second.members} members")
    finally:
        dynamodb.stop()


if __name__ == "__main__":
    main()
