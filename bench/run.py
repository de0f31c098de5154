"""Benchmark on DynamoDB Local: what each points operation costs (a purchase of 3 lines and of 1, a
replay, a return, an activity, an adjustment, a balance read, a ledger page) and each spending operation
(a redemption of a plain reward and of a voucher reward with stock and a per-member limit, a replayed
redemption, cancels of both, a points reservation at the till, its capture and a void) at 10 and at
10,000 ledger entries.

    make bench                       # or: .venv/bin/python -m bench.run --entries 10000 [--storm]

The use cases run in process over the real DynamoDB adapter, with the per-container caches (program
rules, stores) warm, as a warm Lambda container has them. Printed per operation: DynamoDB calls, keys
read, items written, capacity as DynamoDB bills it (computed from the item sizes, see bench/meter.py)
next to what DynamoDB Local reports, bytes, and the median time. Then whether a purchase, a plain
redemption and a capture stay within 3 keys read and 3 items written, and what a voucher redemption
with stock and a per-member limit writes beyond them. `--storm` then runs bench/storm.py (purchases over
HTTP against the local run). Figures only; nothing here asserts on time."""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import boto3

from bench.meter import DynamoMeter, Measurement, item_size
from infra.resources import TABLE
from local.demo import DEMO_STORES, demo_context
from local.embedded import aws_environment, free_port, start_dynamodb_local
from local.provision import create_table

PURCHASE_TARGET = (3, 3)  # keys read, items written
BENCH_ACTIVITY = "bench_visit"  # an activity type with a daily and a monthly cap, both high enough for the samples
STORES_USED = ("SH-JINGAN", "HZ-XIHU")  # the purchases' store and the returns' store
PLAIN_REWARD = "bench-tote-bag"  # a physical gift: no stock tracked, no per-member limit, no voucher
VOUCHER_REWARD = "bench-voucher"  # a voucher reward with tracked stock and a per-member limit
REWARD_POINTS = 50
PAYMENT_POINTS = 200  # 2 CNY at the default 100 points per CNY, on an order of 39.80


def bench_rewards():
    """The two rewards the redemptions spend points on; stock and limit leave room for every sample."""
    from loyalty.rewards.domain import RewardInput

    plain = RewardInput.model_validate({
        "reward_id": PLAIN_REWARD, "name": {"zh": "帆布袋", "en": "Tote bag"}, "kind": "physical_gift",
        "points_cost": REWARD_POINTS})
    voucher = RewardInput.model_validate({
        "reward_id": VOUCHER_REWARD, "name": {"zh": "满100减20券", "en": "20 off 100"}, "kind": "voucher",
        "points_cost": REWARD_POINTS, "stock": 1_000_000, "per_member_limit": 1000,
        "voucher": {"discount": "amount_off", "amount_off": "20.00", "min_spend": "100.00", "valid_days": 30}})
    return plain, voucher


def redemption(redemption_id: str, reward_id: str):
    from loyalty.rewards.requests import RedemptionRequest

    return RedemptionRequest.model_validate({"redemption_id": redemption_id, "reward_id": reward_id,
                                             "store_id": "SH-JINGAN", "channel": "pos"})


def points_payment(payment_id: str, order_id: str):
    from loyalty.points.requests import PointsPaymentRequest

    return PointsPaymentRequest.model_validate({
        "payment_id": payment_id, "store_id": "SH-JINGAN", "order_id": order_id, "channel": "pos",
        "currency": "CNY", "order_total": "39.80", "points": PAYMENT_POINTS})


def done(outcome, created: bool = True):
    """Measure what was meant: a write that did its work, or a replay that did not."""
    if outcome.created != created:
        raise RuntimeError(f"expected created={created}, got {outcome.result!r}")
    return outcome


class DiscardingPublisher:
    def publish(self, events) -> None:
        pass


def purchase(order_id: str, occurred_at: datetime, lines: int = 3):
    from loyalty.points.requests import PurchaseRequest

    items = [{"sku": f"SKU-{i:04d}", "category": "grocery", "quantity": 2, "unit_price": "19.90",
              "amount": "39.80"} for i in range(lines)]
    return PurchaseRequest.model_validate({
        "order_id": order_id, "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": occurred_at.isoformat(),
        "currency": "CNY", "lines": items, "total": str(Decimal("39.80") * lines), "payment_method": "wechat_pay",
    })


def return_of(order_id: str, return_id: str, occurred_at: datetime):
    from loyalty.points.requests import ReturnRequest

    return ReturnRequest.model_validate({
        "return_id": return_id, "order_id": order_id, "store_id": "SH-JINGAN", "returning_store_id": "HZ-XIHU",
        "occurred_at": occurred_at.isoformat(), "lines": [{"sku": "SKU-0000", "quantity": 1}],
    })


def adjustment(adjustment_id: str):
    from loyalty.points.requests import AdjustmentRequest

    return AdjustmentRequest.model_validate({"adjustment_id": adjustment_id, "points": 10,
                                             "reason": "goodwill: the till was down"})


def count_ledger(table, member_id: str) -> int:
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


class Bench:
    def __init__(self, services, meter: DynamoMeter, table, member_id: str):
        from loyalty.kernel.identity import ClientIdentity

        self.services, self.meter, self.table, self.member_id = services, meter, table, member_id
        self.pos = ClientIdentity.from_context(demo_context("pos-sh-jingan"))
        self.returning_pos = ClientIdentity.from_context(demo_context("pos-hz-xihu"))
        self.backoffice = ClientIdentity.from_context(demo_context("backoffice"))
        self.reader = ClientIdentity.from_context(demo_context("webshop"))

    def warm(self) -> None:
        """What a warm container holds: the program rules and the stores (each cached 60 s). Called before
        every sample, outside the measurement; it reads nothing while the caches are fresh."""
        self.services.program_rules.current()
        for store_id in STORES_USED:
            self.services.cached_stores.get_store(store_id)

    def sample(self, action) -> Measurement:
        self.warm()
        with self.meter.measure() as measurement:
            action()
        return measurement

    def phase(self, tag: str, samples: int) -> tuple[dict[str, list[Measurement]], int, int]:
        points, queries, member = self.services.points_service, self.services.points_queries, self.member_id
        results: dict[str, list[Measurement]] = defaultdict(list)
        entries_before = count_ledger(self.table, member)
        for _ in range(samples):  # the reads first, at the phase's history size
            results["balance read"].append(self.sample(lambda: queries.balance(member, self.reader)))
            results["ledger page (limit 20)"].append(
                self.sample(lambda: queries.ledger(member, self.reader, limit=20)))
        for i in range(samples):
            now = datetime.now(timezone.utc) - timedelta(minutes=5)
            order = f"{tag}-order-{i}"
            results["purchase (3 lines)"].append(self.sample(
                lambda: points.earn_purchase(member, purchase(order, now), self.pos)))
            results["purchase (1 line)"].append(self.sample(
                lambda: points.earn_purchase(member, purchase(f"{order}-single", now, lines=1), self.pos)))
            results["purchase replay (same order)"].append(
                self.sample(lambda: points.earn_purchase(member, purchase(order, now), self.pos)))
            results["return (1 unit, other store)"].append(self.sample(
                lambda: points.record_return(member, return_of(order, f"{tag}-return-{i}", now), self.returning_pos)))
            results["activity (daily and monthly cap)"].append(self.sample(lambda: points.earn_activity(
                member, activity_id=f"{tag}-visit-{i}", activity_type=BENCH_ACTIVITY, occurred_at=now,
                store_id="SH-JINGAN", client=self.pos)))
            results["adjustment"].append(self.sample(
                lambda: points.adjust(member, adjustment(f"{tag}-adjustment-{i}"), self.backoffice)))
            self.spending(tag, i, results)
        return results, entries_before, count_ledger(self.table, member)

    def spending(self, tag: str, i: int, results: dict[str, list[Measurement]]) -> None:
        """Redemptions, their replay and cancels, and points at the till: reserve, capture, void."""
        redemptions, payments, member = self.services.redemptions, self.services.points_payments, self.member_id
        plain, voucher = f"{tag}-tote-{i}", f"{tag}-voucher-{i}"
        results["redemption (plain reward)"].append(self.sample(
            lambda: done(redemptions.redeem(member, redemption(plain, PLAIN_REWARD), self.pos))))
        results["redemption replay (same id)"].append(self.sample(
            lambda: done(redemptions.redeem(member, redemption(plain, PLAIN_REWARD), self.pos), created=False)))
        results["redemption (voucher, stock, per-member limit)"].append(self.sample(
            lambda: done(redemptions.redeem(member, redemption(voucher, VOUCHER_REWARD), self.pos))))
        results["redemption cancel (plain reward)"].append(self.sample(
            lambda: done(redemptions.cancel(member, plain, self.pos))))
        results["redemption cancel (voucher, stock, per-member limit)"].append(self.sample(
            lambda: done(redemptions.cancel(member, voucher, self.pos))))
        captured, voided = f"{tag}-pay-{i}", f"{tag}-pay-{i}-void"
        results["points reservation"].append(self.sample(
            lambda: done(payments.reserve(member, points_payment(captured, f"{tag}-till-{i}"), self.pos))))
        results["points capture"].append(self.sample(lambda: done(payments.capture(member, captured, self.pos))))
        self.warm()
        done(payments.reserve(member, points_payment(voided, f"{tag}-till-{i}-void"), self.pos))  # not measured
        results["points void"].append(self.sample(lambda: done(payments.void(member, voided, self.pos))))


ORDER = ["purchase (3 lines)", "purchase (1 line)", "purchase replay (same order)", "return (1 unit, other store)",
         "activity (daily and monthly cap)", "adjustment", "balance read", "ledger page (limit 20)",
         "redemption (plain reward)", "redemption (voucher, stock, per-member limit)", "redemption replay (same id)",
         "redemption cancel (plain reward)", "redemption cancel (voucher, stock, per-member limit)",
         "points reservation", "points capture", "points void"]
# the operations held to 3 keys read and 3 items written, by the name the check line gives them
TARGETED = {"purchase (3 lines)": "purchase", "redemption (plain reward)": "plain redemption",
            "points capture": "capture"}
BEYOND_TARGET = {  # what a voucher redemption with stock and a limit writes beside the 3 items
    "redemption (voucher, stock, per-member limit)": "the stock, the member's count and the voucher, one item each"}


def spread(values, fmt="{:g}") -> str:
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else f"{fmt.format(low)}–{fmt.format(high)}"


def row(name: str, history: str, samples: list[Measurement]) -> str:
    calls = ", ".join(f"{k}×{v}" for k, v in sorted(samples[0].calls.items()))
    if any(s.calls != samples[0].calls for s in samples):
        calls += " (varies)"
    ms = statistics.median(s.seconds * 1000 for s in samples)
    sent = statistics.median(s.bytes_sent for s in samples)
    received = statistics.median(s.bytes_received for s in samples)
    keys = spread([s.keys_read for s in samples])
    if all(s.keys_read == 0 and s.items_found for s in samples):  # a Query reads a range, not keys
        keys += f" ({spread([s.items_found for s in samples])} items by range)"
    return (f"| {name} | {history} | {calls} | {keys} "
            f"| {spread([s.items_written for s in samples])} "
            f"| {spread([s.billed_read_units for s in samples])} | {spread([s.billed_write_units for s in samples])} "
            f"| {spread([s.billed_units for s in samples])} "
            f"| {spread([s.reported_read_units for s in samples])} "
            f"/ {spread([s.reported_write_units for s in samples])} "
            f"| {sent:.0f} / {received:.0f} | {ms:.1f} |")


def breakdown(name: str, measurement: Measurement) -> list[str]:
    lines = [f"{name}, billed item by item:"]
    for c in measurement.charges:
        lines.append(f"  {c.operation:<36} {c.key:<58} {c.size:>5} bytes  {c.units:g} {'WCU' if c.write else 'RCU'}")
    return lines


def target_line(name: str, history: str, samples: list[Measurement], beyond: str | None = None) -> str:
    keys, written = max(s.keys_read for s in samples), max(s.items_written for s in samples)
    target = f"the target of {PURCHASE_TARGET[0]} and {PURCHASE_TARGET[1]}"
    over = [f"{n - limit} {what}{'s' if n - limit > 1 else ''}"
            for n, limit, what in ((keys, PURCHASE_TARGET[0], "key"), (written, PURCHASE_TARGET[1], "item"))
            if n > limit]
    verdict = f"within {target}" if not over else f"over {target} by {' and '.join(over)}"
    if beyond is not None and written > PURCHASE_TARGET[1]:
        verdict += f"; the items beyond 3: {beyond}"
    return (f"{name}: {keys} keys read, {written} items written — {verdict} ({history} ledger entries; "
            f"billed {spread([s.billed_read_units for s in samples])} RCU + "
            f"{spread([s.billed_write_units for s in samples])} WCU)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000, help="ledger entries for the large history")
    parser.add_argument("--samples", type=int, default=20, help="samples of each operation at each history size")
    parser.add_argument("--jvm-warm-up", type=int, default=300,
                        help="purchases and reads on another member first, not measured (DynamoDB Local's JIT)")
    parser.add_argument("--storm", action="store_true",
                        help="then run the storm against the local run (bench/storm.py)")
    parser.add_argument("--storm-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    dynamodb = start_dynamodb_local(free_port(), log_dir)
    try:
        os.environ.update(aws_environment(dynamodb.endpoint, "http://127.0.0.1:1"))
        create_table(boto3.client("dynamodb"))
        from loyalty.kernel.identity import ClientIdentity
        from loyalty.members.domain import EnrollmentRequest
        from loyalty.platform.clock import SystemClock
        from loyalty.platform.settings import CoreSettings
        from loyalty.points.program import DEFAULT_RULES, ActivityRule
        from loyalty.wiring import Services

        table = boto3.resource("dynamodb").Table(TABLE.name)
        meter = DynamoMeter(table.meta.client)
        services = Services(table=table, publisher=DiscardingPublisher(), clock=SystemClock(),
                            settings=CoreSettings(table_name=TABLE.name, event_bus_name="unused",
                                                  default_country_code="86"))
        for store in DEMO_STORES:
            services.stores.put_store(store)
        backoffice = ClientIdentity.from_context(demo_context("backoffice"))
        for reward in bench_rewards():
            services.reward_catalogue.create(reward, backoffice)
        # The default rules, plus an activity type whose caps leave room for every sample.
        rules = DEFAULT_RULES.model_copy(update={"activities": {
            **DEFAULT_RULES.activities, BENCH_ACTIVITY: ActivityRule(points=5, daily_cap=1000, monthly_cap=10_000)}})
        services.program_rules.replace(rules, changed_by="bench", at=datetime.now(timezone.utc))
        pos = ClientIdentity.from_context(demo_context("pos-sh-jingan"))
        member = services.member_service.enroll(EnrollmentRequest.model_validate({
            "phone": "13900000001", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}), pos, None).member.body()
        member_id = member["member_id"]
        bench = Bench(services, meter, table, member_id)
        bench.warm()

        now = datetime.now(timezone.utc) - timedelta(minutes=5)
        # DynamoDB Local's JVM compiles its hot paths over the first few hundred calls: spend them on
        # another member, so that the first phase's times are not its warm-up.
        other = services.member_service.enroll(EnrollmentRequest.model_validate({
            "phone": "13900000002", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}), pos, None).member.body()
        for i in range(args.jvm_warm_up):
            services.points_service.earn_purchase(other["member_id"], purchase(f"jvm-{i}", now), pos)
            services.points_queries.balance(other["member_id"], bench.reader)
            services.points_queries.ledger(other["member_id"], bench.reader, limit=20)
        for i in range(10):
            services.points_service.earn_purchase(member_id, purchase(f"first-{i}", now), pos)
        small, small_from, small_to = bench.phase("small", args.samples)

        started = time.monotonic()
        fill = max(0, args.entries - small_to)
        print(f"filling the ledger with {fill} purchases to {args.entries} entries...", flush=True)
        for i in range(fill):
            services.points_service.earn_purchase(member_id, purchase(f"fill-{i}", now, lines=1), pos)
            if (i + 1) % 1000 == 0:
                print(f"  {i + 1} ({time.monotonic() - started:.0f} s)", flush=True)
        large, large_from, large_to = bench.phase("large", args.samples)
        balance = boto3.client("dynamodb").get_item(TableName=TABLE.name, Key={
            "PK": {"S": f"MEMBER#{member_id}"}, "SK": {"S": "POINTS"}})["Item"]  # wire format, for its size

        small_label, large_label = f"{small_from:,}", f"{large_from:,}"
        print()
        print(f"{args.samples} samples per operation and history size; ledger entries counted before each "
              f"phase's first sample ({small_from:,} → {small_to:,} during the first phase, "
              f"{large_from:,} → {large_to:,} during the second)")
        print()
        print("| operation | ledger entries | DynamoDB calls | keys read | items written | billed RCU | billed WCU "
              "| billed total | DynamoDB Local RCU / WCU | bytes sent / received | median ms |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name in ORDER:
            print(row(name, small_label, small[name]))
            print(row(name, large_label, large[name]))
        print()
        for label, results in ((small_label, small), (large_label, large)):
            for name, short in TARGETED.items():
                print(target_line(short, label, results[name]))
            for name, extra in BEYOND_TARGET.items():
                print(target_line(name, label, results[name], extra))
        print()
        for name in ("purchase (3 lines)", "purchase (1 line)", "return (1 unit, other store)",
                     "activity (daily and monthly cap)", "ledger page (limit 20)", "redemption (plain reward)",
                     "redemption (voucher, stock, per-member limit)", "redemption replay (same id)",
                     "redemption cancel (plain reward)", "redemption cancel (voucher, stock, per-member limit)",
                     "points reservation", "points capture", "points void"):
            print("\n".join(breakdown(f"{name} at {large_label} entries", large[name][0])))
        print()
        print(f"balance item after {large_to:,} entries: {item_size(balance)} bytes as DynamoDB counts them "
              f"(counters only)")
    finally:
        dynamodb.stop()

    if args.storm:
        from bench.storm import main as storm

        print()
        storm(["--seconds", str(args.storm_seconds)])


if __name__ == "__main__":
    main()
