"""Benchmark of a member's data export on DynamoDB Local: a member with 10,000 ledger entries (and a
purchase record for every 50th), exported by the queue worker's use case over the real adapters into a
folder, as the local run keeps exports. Prints the document's size, the records per section, the
worker's peak Python allocation (tracemalloc) and the time. Figures only.

    .venv/bin/python -m bench.export [--entries 10000]

The ledger is written straight into the table in the adapter's item format, copied from a real first
purchase, so that seeding takes seconds rather than the minutes 10,000 purchases would."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3

from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table


class Clock:
    def __init__(self):
        self.current = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-export-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"), stream=False)
        from local.demo import DEMO_STORES, demo_context
        from loyalty.kernel.identity import ClientIdentity
        from loyalty.members.domain import EnrollmentRequest
        from loyalty.members.dynamo import DynamoExportRepository, DynamoMemberRepository
        from loyalty.members.export import MemberExports
        from loyalty.members.storage import FolderExportStore
        from loyalty.platform.settings import CoreSettings
        from loyalty.points.dynamo import DynamoPointsMemberData, ledger_key
        from loyalty.points.requests import PurchaseRequest
        from loyalty.rewards.dynamo import DynamoRewardsMemberData
        from loyalty.wiring import Services

        table = boto3.resource("dynamodb").Table("loyalty-main")
        clock = Clock()
        settings = CoreSettings(LOYALTY_TABLE_NAME="loyalty-main", EVENT_BUS_NAME="loyalty-bus",
                                DEFAULT_COUNTRY_CODE="86", ERASURE_GRACE_DAYS="30")
        services = Services(table=table, clock=clock, settings=settings, publisher=_NoPublisher())
        for store in DEMO_STORES:
            services.stores.put_store(store)
        pos = ClientIdentity.from_context(demo_context("pos-sh-jingan"))
        member_id = services.member_service.enroll(EnrollmentRequest.model_validate({
            "phone": "13900009999", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}), pos, None).member.member_id
        services.points_service.earn_purchase(member_id, PurchaseRequest.model_validate({
            "order_id": "BX-1", "store_id": "SH-JINGAN", "channel": "pos", "currency": "CNY",
            "occurred_at": (clock.now() - timedelta(hours=1)).isoformat(), "total": "88.00",
            "payment_method": "wechat_pay", "lines": [{"sku": "SKU-1", "category": "apparel", "quantity": 1,
                                                       "unit_price": "88.00", "amount": "88.00"}]}), pos)
        entry = table.get_item(Key=ledger_key(member_id, 1))["Item"]
        purchase = table.get_item(Key={"PK": "PURCHASE#SH-JINGAN#BX-1", "SK": "PURCHASE"})["Item"]
        started = time.perf_counter()
        with table.batch_writer() as batch:
            for seq in range(2, args.entries + 1):
                order = f"BX-{seq}"
                batch.put_item(Item={**entry, **ledger_key(member_id, seq), "seq": seq,
                                     "entry_id": f"led_{seq:026d}", "reference": {"kind": "purchase", "id": order}})
                if seq % 50 == 0:
                    batch.put_item(Item={**purchase, "PK": f"PURCHASE#SH-JINGAN#{order}", "order_id": order})
        print(f"seeded {args.entries:,} ledger entries in {time.perf_counter() - started:.0f} s")

        folder = Path(tempfile.mkdtemp(prefix="loyalty-bench-exports-"))
        exports = MemberExports(DynamoMemberRepository(table), DynamoExportRepository(table),
                                [DynamoPointsMemberData(table), DynamoRewardsMemberData(table)],
                                FolderExportStore(folder), _NoQueue(), clock, services.ids)
        admin = ClientIdentity.from_context(demo_context("backoffice"))
        export_id = exports.start(member_id, admin)[0].export_id
        tracemalloc.start()
        started = time.perf_counter()
        done = exports.run(member_id, export_id)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"export of {args.entries:,} ledger entries: {done.size_bytes / 1e6:.1f} MB in {seconds:.1f} s, "
              f"peak Python allocation {peak / 1e6:.1f} MB")
        print("records per section:", done.sections)
    finally:
        dynamodb.stop()


class _NoPublisher:
    def publish(self, events) -> None:
        pass


class _NoQueue:
    def send(self, member_id: str, export_id: str) -> None:
        pass


if __name__ == "__main__":
    main()
