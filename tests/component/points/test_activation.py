"""Pending points (a return window) and the scheduled job that makes them available, on moto."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import points
import points_activation
from loyalty.points.dynamo import ACTIVATION_SHARDS
from tests.component.points.conftest import ago, call, line, purchase_body, set_rules
from tests.conftest import BACKOFFICE

SCHEDULED_EVENT = json.loads((Path(__file__).parents[3] / "events/points_activation/scheduled.json").read_text())


@pytest.fixture(autouse=True)
def return_window(services):
    set_rules(services, activation_delay_days=7)


def buy(ctx, member_id, order_id, *lines, occurred_at):
    status, result = call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member_id,
                          body=purchase_body(order_id, *lines, occurred_at=occurred_at))
    assert status == 201, result
    return result


def run_job(ctx) -> dict:
    return points_activation.handler(SCHEDULED_EVENT, ctx)


def balance(ctx, member_id) -> dict:
    return call(points, ctx, "GET", "/v1/members/{member_id}/points", member_id=member_id)[1]


def test_points_wait_out_the_return_window_then_the_job_makes_them_available(services, member, ctx, clock, publisher):
    result = buy(ctx, member, "O-1", line(), occurred_at=ago(clock, hours=1))
    assert result["status"] == "pending" and result["balance"] == {"available": 0, "pending": 100, "debt": 0, "reserved": 0}
    assert result["activates_at"] == "2026-11-25T01:00:00+00:00"
    assert run_job(ctx)["activated"] == 0

    clock.advance(days=7)
    assert run_job(ctx)["activated"] == 1
    assert (balance(ctx, member)["available"], balance(ctx, member)["pending"]) == (100, 0)
    [event] = [e for e in publisher.events if e.detail_type == "PointsActivated.v1"]
    assert event.detail == {"member_id": member, "lot_id": "P#SH-JINGAN#O-1", "points": 100}
    newest = call(points, ctx, "GET", "/v1/members/{member_id}/ledger", member_id=member)[1]["items"][0]
    assert (newest["type"], newest["available_change"], newest["pending_change"]) == ("activation", 100, -100)

    assert run_job(ctx)["activated"] == 0  # a second run finds nothing: the lot is gone
    assert balance(ctx, member)["available"] == 100


def test_activating_the_same_lot_twice_changes_nothing(services, member, ctx, clock):
    buy(ctx, member, "O-2", line(), occurred_at=ago(clock, hours=1))
    clock.advance(days=8)
    service = services.points_activation
    assert service.activate_lot(member, "P#SH-JINGAN#O-2") is True
    assert service.activate_lot(member, "P#SH-JINGAN#O-2") is False
    assert balance(ctx, member)["available"] == 100


def test_a_return_inside_the_window_takes_pending_points_first(services, member, ctx, clock):
    call(points, ctx, "POST", "/v1/members/{member_id}/adjustments", member_id=member, client=BACKOFFICE,
         body={"adjustment_id": "A-1", "points": 50, "reason": "opening balance"})
    buy(ctx, member, "O-3", line(sku="TEE", quantity=2, unit_price="50.00"), occurred_at=ago(clock, hours=1))
    status, result = call(points, ctx, "POST", "/v1/members/{member_id}/returns", member_id=member, body={
        "return_id": "R-1", "order_id": "O-3", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": clock.now().isoformat(), "lines": [{"sku": "TEE", "quantity": 1}]})
    assert status == 201
    assert (result["from_pending"], result["from_available"]) == (50, 0)
    assert result["balance"] == {"available": 50, "pending": 50, "debt": 0, "reserved": 0}
    clock.advance(days=7)
    assert run_job(ctx)["activated"] == 1
    assert balance(ctx, member)["available"] == 100  # only what was left pending became available


def test_a_fully_returned_purchase_has_nothing_left_to_activate(services, member, ctx, clock):
    buy(ctx, member, "O-4", line(), occurred_at=ago(clock, hours=1))
    call(points, ctx, "POST", "/v1/members/{member_id}/returns", member_id=member, body={
        "return_id": "R-1", "order_id": "O-4", "store_id": "SH-JINGAN", "returning_store_id": "SH-JINGAN",
        "occurred_at": clock.now().isoformat(), "whole_order": True})
    clock.advance(days=7)
    assert run_job(ctx)["activated"] == 0
    after = balance(ctx, member)
    assert (after["available"], after["pending"], after["debt"], after["lifetime_earned"]) == (0, 0, 0, 0)


def test_an_offline_purchase_whose_window_already_passed_is_available_at_once(services, member, ctx, clock):
    set_rules(services, activation_delay_days=3)
    result = buy(ctx, member, "O-5", line(), occurred_at=ago(clock, days=5))
    assert result["status"] == "available" and result["balance"]["available"] == 100


def test_lots_are_spread_over_date_and_shard_partitions(services, member, ctx, clock):
    buy(ctx, member, "O-6", line(), occurred_at=ago(clock, hours=1))
    lot = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "LOT#P#SH-JINGAN#O-6"})["Item"]
    prefix, day, shard = lot["GSI1PK"].split("#")
    assert (prefix, day) == ("PENDING", "2026-11-25")
    assert 0 <= int(shard) < ACTIVATION_SHARDS
    assert lot["GSI1SK"].startswith("2026-11-25T01:00:00.000000Z#")


def test_the_job_catches_up_on_days_it_missed(services, ctx, clock):
    from tests.component.points.conftest import enroll

    run_job(ctx)  # leaves its watermark at today
    members = [enroll(services) for _ in range(3)]
    for index, member_id in enumerate(members):
        clock.advance(days=1)
        buy(ctx, member_id, f"O-{index}", line(), occurred_at=ago(clock, hours=1))
    clock.advance(days=20)  # lots fell due 10 to 12 days ago: beyond the first run's look-back, not the watermark's
    assert run_job(ctx)["activated"] == 3
    assert [balance(ctx, m)["available"] for m in members] == [100, 100, 100]


def test_the_job_stops_taking_lots_when_time_runs_out(services, member, ctx, clock):
    buy(ctx, member, "O-7", line(), occurred_at=ago(clock, hours=1))
    clock.advance(days=8)
    run = services.points_activation.activate_due(should_continue=lambda: False)
    assert (run.activated, run.complete) == (0, False)
    assert services.points_activation.activate_due().activated == 1
