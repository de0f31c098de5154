"""Benchmark of the KPIs on DynamoDB Local: what counting one event writes, and what a year's report reads.

    make bench-kpis             # or: .venv/bin/python -m bench.kpis [--stores 200] [--days 365]

Seeds daily rows as the consumer writes them, in each of the 8 shards (the busiest case: every shard of every
group written every day): a year of the chain, its cities and channels and one store, and the last 30
days of every store; then
meters, over the real adapters: a purchase, a second purchase of the same member, a return and a
redelivery through the consumer's use case; the chain's year by month; one store's year by month; and
the whole chain by store for a month. Figures only."""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import boto3

from bench.expiry import Clock
from bench.meter import DynamoMeter
from infra.resources import TABLE
from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table

FIRST = date(2026, 1, 1)
CITIES = ("上海", "杭州", "成都", "南京", "苏州", "宁波", "武汉", "广州", "深圳", "北京")
CHANNELS = ("pos", "webshop", "app")
COUNTERS = {"orders": 3, "spend": 412, "active_members": 3, "buyers_month": 1, "points_issued": 412}


def seed(stores: int, days: int, shards: int, threads: int) -> int:
    from loyalty.kpis.dynamo import row_key

    # Every day: the chain, its cities and channels, and store S000; the last 30 days: every store.
    yearly = [("store", "S000")] + [("city", c) for c in CITIES] + [("channel", c) for c in CHANNELS] + [("chain", "*")]
    monthly = [("store", f"S{n:03d}") for n in range(1, stores)]
    work = [(FIRST + timedelta(days=d), shard, g) for d in range(days) for shard in range(shards)
            for g in yearly + (monthly if d >= days - 30 else [])]

    def write(part: int) -> None:
        table = boto3.session.Session().resource("dynamodb").Table(TABLE.name)
        with table.batch_writer() as batch:
            for day, shard, (dimension, value) in work[part::threads]:
                batch.put_item(Item={**row_key(day, shard, dimension, value), "entity": "kpi_row",
                                     "dimension": dimension, "day": day.isoformat(), "group_value": value,
                                     **COUNTERS})

    workers = [threading.Thread(target=write, args=(part,)) for part in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-kpis-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"), stream=False)
        from loyalty.kernel.identity import ClientIdentity
        from loyalty.kernel.stores import Store
        from loyalty.kpis.service import KpiQuery
        from loyalty.platform.settings import CoreSettings
        from loyalty.wiring import Services

        table = boto3.resource("dynamodb").Table(TABLE.name)
        started = time.monotonic()
        seeded = seed(args.stores, args.days, 8, args.threads)
        print(f"seeded {seeded:,} daily rows in {time.monotonic() - started:.0f} s", flush=True)
        services = Services(table=table, clock=Clock(datetime(2026, 12, 31, 4, tzinfo=timezone.utc)),
                            settings=CoreSettings(table_name=TABLE.name, event_bus_name="unused",
                                                  default_country_code="86", erasure_grace_days=30))
        services.stores.put_store(Store(store_id="S000", name="静安嘉里店", city="上海"))
        services.program_rules.current()
        meter = DynamoMeter(table.meta.client)
        chain = ClientIdentity(client_id="bi", kind="backoffice", scopes=frozenset({"kpis:read"}), store_ids=frozenset({"*"}))

        def purchase(event_id: str, order: str, total: str) -> dict:
            return {"event_id": event_id, "occurred_at": "2026-12-31T03:00:00+00:00",
                    "purchased_at": "2026-12-31T11:00:00+08:00", "member_id": "mbr_bench", "order_id": order,
                    "store_id": "S000", "channel": "pos", "total": total, "list_total": total,
                    "discounted_total": "0", "new_product_total": "0", "items": 1, "categories": {"tea": total},
                    "points": 100, "first_purchase": False}

        print("\n| operation | calls | keys read | items written | billed RCU | billed WCU |")
        print("|---|---|---|---|---|---|")
        counting = services.kpi_counting
        for label, (event_id, detail_type, detail) in {
            "count a purchase": ("evt_b1", "PurchaseRecorded.v1", purchase("evt_b1", "O-1", "120.00")),
            "count the member's second purchase that day": ("evt_b2", "PurchaseRecorded.v1",
                                                            purchase("evt_b2", "O-2", "80.00")),
            "count a return": ("evt_b3", "PointsReturned.v1", {
                "event_id": "evt_b3", "occurred_at": "2026-12-31T05:00:00+00:00", "member_id": "mbr_bench",
                "return_id": "R-1", "order_id": "O-1", "store_id": "S000", "returning_store_id": "S000",
                "points": 40, "debt_added": 0, "channel": "pos", "refund_total": "40.00", "categories": {"tea": "40.00"}}),
            "a redelivered purchase": ("evt_b1", "PurchaseRecorded.v1", purchase("evt_b1", "O-1", "120.00")),
        }.items():
            with meter.measure() as cost:
                outcome = counting.count(event_id, detail_type, detail)
            print(f"| {label} ({outcome.value}) | {sum(cost.calls.values())} | {cost.keys_read} | {cost.items_written} "
                  f"| {cost.billed_read_units:g} | {cost.billed_write_units:g} |")

        print("\n| report | queries | items read | billed RCU | rows answered | seconds |")
        print("|---|---|---|---|---|---|")
        last = FIRST + timedelta(days=args.days - 1)
        for label, query in {
            f"the chain, {args.days} days by month": KpiQuery(from_date=FIRST, to_date=last, group_by="month"),
            f"one store, {args.days} days by month": KpiQuery(from_date=FIRST, to_date=last, group_by="month",
                                                             store_id="S000"),
            f"{args.stores} stores, 30 days by store": KpiQuery(from_date=last - timedelta(days=29), to_date=last,
                                                               group_by="store"),
        }.items():
            with meter.measure() as cost:
                report = services.kpi_reports.report(query, chain)
            print(f"| {label} | {cost.calls.get('Query', 0)} | {cost.items_found:,} | {cost.billed_read_units:g} "
                  f"| {len(report.rows)} | {cost.seconds:.1f} |")
    finally:
        dynamodb.stop()


if __name__ == "__main__":
    main()
