"""Benchmark on DynamoDB Local: what a purchase, a return and a balance read cost, and that the
balance read costs the same at 10 and at 10,000 ledger entries.

    make bench                       # or: .venv/bin/python -m bench.run --entries 10000

Prints, per operation: DynamoDB calls, consumed capacity as DynamoDB Local reports it, items and
bytes read and written, and in-process time. Figures only; nothing here asserts on time."""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import boto3

from bench.meter import DynamoMeter, Measurement
from infra.resources import TABLE
from local.demo import DEMO_STORES, demo_context
from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table


class DiscardingPublisher:
    def publish(self, events) -> None:
        pass


def purchase(order_id: str, occurred_at: datetime, lines: int = 3):
    from loyalty.points.earning import PurchaseRequest

    items = [{"sku": f"SKU-{i:04d}", "category": "grocery", "quantity": 2, "unit_price": "19.90",
              "amount": "39.80"} for i in range(lines)]
    return PurchaseRequest.model_validate({
        "order_id": order_id, "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": occurred_at.isoformat(),
        "currency": "CNY", "lines": items, "total": str(Decimal("39.80") * lines), "payment_method": "wechat_pay",
    })


def return_of(order_id: str, return_id: str, occurred_at: datetime):
    from loyalty.points.earning import ReturnRequest

    return ReturnRequest.model_validate({
        "return_id": return_id, "order_id": order_id, "store_id": "SH-JINGAN", "returning_store_id": "HZ-XIHU",
        "occurred_at": occurred_at.isoformat(), "lines": [{"sku": "SKU-0000", "quantity": 1}],
    })


def _count_ledger(table, member_id: str) -> int:
    from boto3.dynamodb.conditions import Key

    count, start = 0, None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = table.query(KeyConditionExpression=Key("PK").eq(f"MEMBER#{member_id}") & Key("SK").begins_with("LEDGER#"),
                           Select="COUNT", **extra)
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def row(name: str, samples: list[Measurement]) -> str:
    first = samples[0].summary()
    ms = statistics.median(s.seconds * 1000 for s in samples)
    calls = ", ".join(f"{k}×{v}" for k, v in sorted(first["calls"].items()))
    return (f"| {name} | {calls} | {first['RCU']} | {first['WCU']} | {first['items_read']} | "
            f"{first['items_written']} | {first['bytes_sent']} | {first['bytes_received']} | {ms:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000, help="ledger entries for the large-history read")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()

    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"))
        from loyalty.platform.clock import SystemClock
        from loyalty.kernel.identity import ClientIdentity
        from loyalty.platform.settings import CoreSettings
        from loyalty.wiring import Services

        table = boto3.resource("dynamodb").Table(TABLE.name)
        meter = DynamoMeter(table.meta.client)
        services = Services(table=table, publisher=DiscardingPublisher(), clock=SystemClock(),
                            settings=CoreSettings(LOYALTY_TABLE_NAME=TABLE.name, EVENT_BUS_NAME="unused",
                                                  DEFAULT_COUNTRY_CODE="86"))
        for store in DEMO_STORES:
            services.stores.put_store(store)
        pos = ClientIdentity.from_context(demo_context("pos-sh-jingan"))
        hz = ClientIdentity.from_context(demo_context("pos-hz-xihu"))
        from loyalty.members.domain import EnrollmentRequest

        member = services.member_service.enroll(EnrollmentRequest.model_validate({
            "phone": "13900000001", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}), pos, None).member.body()
        member_id = member["member_id"]
        points = services.points_service
        now = datetime.now(timezone.utc) - timedelta(minutes=5)

        points.earn_purchase(member_id, purchase("warm-up", now), pos)  # warm caches (program rules)
        for i in range(9):
            points.earn_purchase(member_id, purchase(f"first-{i}", now), pos)
        history = len(points.ledger(member_id, pos, limit=100)["items"])
        small_reads = []
        for _ in range(args.samples):
            with meter.measure() as m:
                points.balance(member_id, pos)
            small_reads.append(m)
        purchases, returns, replays = [], [], []
        for i in range(args.samples):
            with meter.measure() as m:
                points.earn_purchase(member_id, purchase(f"order-{i}", now), pos)
            purchases.append(m)
            with meter.measure() as m:
                points.earn_purchase(member_id, purchase(f"order-{i}", now), pos)
            replays.append(m)
            with meter.measure() as m:
                points.record_return(member_id, return_of(f"order-{i}", f"return-{i}", now), hz)
            returns.append(m)

        print(f"filling the ledger to about {args.entries} entries...", flush=True)
        for i in range(args.entries - 10 - 2 * args.samples):
            points.earn_purchase(member_id, purchase(f"fill-{i}", now, lines=1), pos)
        large_reads, large_purchases = [], []
        for i in range(args.samples):
            with meter.measure() as m:
                points.balance(member_id, pos)
            large_reads.append(m)
            with meter.measure() as m:
                points.earn_purchase(member_id, purchase(f"late-{i}", now), pos)
            large_purchases.append(m)
        entries = _count_ledger(table, member_id)
        item = table.get_item(Key={"PK": f"MEMBER#{member_id}", "SK": "POINTS"})["Item"]

        print()
        print("| operation | DynamoDB calls | RCU | WCU | items read | items written | bytes sent | bytes received | median ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(row("purchase (3 lines)", purchases))
        print(row("purchase replay (same order)", replays))
        print(row("return (1 unit, other store)", returns))
        print(row(f"balance read, {history} ledger entries", small_reads))
        print(row(f"balance read, {entries} ledger entries", large_reads))
        print(row(f"purchase, {entries}+ ledger entries", large_purchases))
        print()
        print(f"balance item size after {entries}+ entries: {len(str(item))} characters of attributes "
              f"(it holds counters only)")
    finally:
        dynamodb.stop()


if __name__ == "__main__":
    main()
