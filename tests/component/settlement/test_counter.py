"""The settlement counter: ledger entries from the table's stream into daily, sharded per-store counters,
exactly once however often a record is delivered; the report adds up every shard and day."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.component.settlement.conftest import (
    SHARDS, by_store, count, counter_items, positions, report,
)
from tests.component.stream_records import stream_record

DAY = {"from": "2026-11-18", "to": "2026-11-18"}  # the fixed clock: 2026-11-18 10:00 in Shanghai
SH, HZ, CD = "SH-JINGAN", "HZ-XIHU", "CD-CHUNXI"


def test_spending_at_another_store_makes_the_earning_store_owe_it(services, ledger):
    member = ledger.member()
    ledger.purchase(member, SH, "300.00")
    ledger.purchase(member, HZ, "100.00")
    ledger.redeem(member, 200, HZ)  # taken in proportion: 150 earned in Shanghai, 50 in Hangzhou
    assert count(*ledger.records()) == {"batchItemFailures": []}

    status, body = report(DAY)
    assert status == 200
    stores = by_store(body)
    sh, hz = stores[SH], stores[HZ]
    assert (sh["issued"], sh["redeemed"], hz["issued"], hz["redeemed"]) == (300, 0, 100, 200)
    assert positions(hz) == {SH: (150, 0, 150, "1.50")}, "Shanghai owes Hangzhou 150 points: 1.50 CNY"
    assert positions(sh) == {HZ: (0, 150, -150, "-1.50")}
    assert (hz["net_points"], hz["net_amount"], sh["net_points"], sh["net_amount"]) == (150, "1.50", -150, "-1.50")
    assert positions(stores[CD]) == {} and stores[CD]["issued"] == 0
    assert body["totals"] == {"issued": 400, "returned": 0, "redeemed": 200, "expired": 0, "captured": 0}
    assert (body["currency"], body["points_per_currency_unit"], body["timezone"]) == ("CNY", 100, "Asia/Shanghai")


def test_a_redelivered_record_is_counted_once(services, ledger, log_output):
    member = ledger.member()
    ledger.purchase(member, SH, "500.00")
    ledger.redeem(member, 120, HZ)
    records = ledger.records()
    assert count(*records) == {"batchItemFailures": []}
    # Lambda retries a batch from its first failed record and sends the records after it again, in
    # another batch shape; an operator may feed a dead-lettered one again.
    assert count(records[1], *records) == {"batchItemFailures": []}
    assert count(records[0]) == {"batchItemFailures": []}
    logged = log_output()
    assert logged.count('"message":"ledger entry already counted"') == 4

    _, body = report(DAY)
    stores = by_store(body)
    assert (stores[SH]["issued"], stores[HZ]["redeemed"]) == (500, 120)
    assert positions(stores[HZ]) == {SH: (120, 0, 120, "1.20")}


def test_one_failing_record_is_reported_and_the_rest_of_the_batch_is_counted(services, ledger, monkeypatch):
    member = ledger.member()
    ledger.purchase(member, SH, "400.00")
    ledger.redeem(member, 100, HZ)
    ledger.pay(member, 50, CD)  # a reservation (counts nothing), then its capture
    records = ledger.records()
    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in records] == ["earn", "redemption", "reservation", "capture"]

    counters = services.settlement_counters
    add, failing = counters.add, {records[1]["dynamodb"]["Keys"]["SK"]["S"]}

    def flaky(entry, *args, **kwargs):  # DynamoDB refuses the redemption's transaction once
        if entry.item_key[1] in failing:
            failing.clear()
            raise RuntimeError("throttled")
        return add(entry, *args, **kwargs)

    monkeypatch.setattr(counters, "add", flaky)
    response = count(*records)
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    _, body = report(DAY)
    assert (by_store(body)[HZ]["redeemed"], by_store(body)[CD]["captured"]) == (0, 50)

    # Lambda sends the batch again from the failed record: the records after it come again too.
    assert count(*records[1:]) == {"batchItemFailures": []}
    _, body = report(DAY)
    stores = by_store(body)
    assert (stores[SH]["issued"], stores[HZ]["redeemed"], stores[CD]["captured"]) == (400, 100, 50)
    assert positions(stores[SH]) == {CD: (0, 50, -50, "-0.50"), HZ: (0, 100, -100, "-1.00")}


def test_an_entry_of_a_type_without_a_rule_fails_towards_the_dead_letter_queue(services, ledger):
    member = ledger.member()
    ledger.purchase(member, SH, "10.00")
    [earned] = ledger.items()
    unknown = stream_record({**earned, "SK": "LEDGER#000000000099", "type": "transfer", "points": -5})
    good = stream_record(earned)
    assert count(unknown, good) == {"batchItemFailures": [{"itemIdentifier": unknown["dynamodb"]["SequenceNumber"]}]}
    _, body = report(DAY)
    assert by_store(body)[SH]["issued"] == 10


def test_records_that_are_no_new_ledger_entries_are_skipped(services, ledger):
    member = ledger.member()
    ledger.purchase(member, SH, "10.00")
    [earned] = ledger.items()
    skipped = [stream_record(earned, "MODIFY"), stream_record(earned, "REMOVE"),
               stream_record({**earned, "entity": "points_balance"})]
    assert count(*skipped) == {"batchItemFailures": []}
    assert counter_items(services) == []


def test_counters_spread_over_shards_and_the_report_adds_up_shards_and_days(services, ledger, clock):
    members = [ledger.member() for _ in range(12)]
    for member in members:
        ledger.purchase(member, SH, "100.00")
    count(*ledger.records())
    clock.advance(days=1)  # 2026-11-19
    for member in members:
        ledger.redeem(member, 40, HZ)
        ledger.purchase(member, CD, "7.00")
    taken = ledger.redeem(members[0], 10, HZ)
    ledger.cancel(members[0], taken, HZ)
    count(*ledger.records())

    items = counter_items(services)
    sh_items = [i for i in items if i["store_id"] == SH]
    assert len({i["PK"] for i in sh_items}) > 1, "one day of one store spreads over several shards"
    assert {i["PK"] for i in items} <= {f"SETTLE#2026-11#{shard}" for shard in range(SHARDS)}
    assert sum(i["issued"] for i in sh_items) == 1200

    _, first = report({"from": "2026-11-18", "to": "2026-11-18"})
    _, second = report({"from": "2026-11-19", "to": "2026-11-19"})
    _, both = report({"from": "2026-11-01", "to": "2026-11-30"})
    assert (by_store(first)[SH]["issued"], by_store(first)[HZ]["redeemed"]) == (1200, 0)
    assert (by_store(second)[SH]["issued"], by_store(second)[HZ]["redeemed"], by_store(second)[CD]["issued"]) == (
        0, 480, 84)
    hz = by_store(both)[HZ]
    assert (hz["redeemed"], positions(hz)) == (480, {SH: (480, 0, 480, "4.80")})
    assert both["totals"] == {"issued": 1284, "returned": 0, "redeemed": 480, "expired": 0, "captured": 0}


def test_a_return_takes_back_at_the_purchase_store_wherever_the_goods_come_back(services, ledger):
    from loyalty.kernel.identity import ClientIdentity
    from loyalty.points.requests import ReturnRequest
    from tests.conftest import BACKOFFICE

    member = ledger.member()
    ledger.purchase(member, SH, "80.00")
    [earned] = ledger.items()
    order_id = earned["reference"]["id"]
    services.points_service.record_return(member, ReturnRequest.model_validate({
        "return_id": "R-1", "order_id": order_id, "store_id": SH, "returning_store_id": HZ,
        "occurred_at": datetime(2026, 11, 18, 1, 55, tzinfo=timezone.utc).isoformat(), "whole_order": True,
    }), ClientIdentity.from_context(BACKOFFICE))
    count(stream_record(earned), *ledger.records())
    _, body = report(DAY)
    stores = by_store(body)
    assert (stores[SH]["issued"], stores[SH]["returned"], stores[HZ]["returned"]) == (80, 80, 0)
