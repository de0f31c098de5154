"""A replay answers the original result byte for byte, though the stored answer keeps only what the
purchase record cannot give back (decision log 16): over both replay paths, the read (the record is
found) and the transaction (a concurrent duplicate's record comes back as ALL_OLD)."""
from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

import points
from tests.component.points.conftest import ago, line, purchase_body
from tests.conftest import POS_HZ, POS_SH, api_event

PURCHASES = "/v1/members/{member_id}/purchases"
RETURNS = "/v1/members/{member_id}/returns"
RECORD_PARTS = {"member_id", "order_id", "store_id", "occurred_at", "points", "rules_version", "lines"}


def send(ctx, resource, member_id, body, client=POS_SH) -> tuple[int, str]:
    response = points.handler(api_event("POST", resource, path_params={"member_id": member_id}, body=body,
                                        client=client), ctx)
    return response["statusCode"], response["body"]


def record(services, order_id: str, store_id: str = "SH-JINGAN") -> dict:
    return services.table.get_item(Key={"PK": f"PURCHASE#{store_id}#{order_id}", "SK": "PURCHASE"})["Item"]


SPELLINGS = {  # how tills write the time: the answer repeats it as written (isoformat keeps the offset)
    "utc Z": lambda t: t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
    "utc +00:00": lambda t: t.astimezone(timezone.utc).isoformat(),
    "Shanghai": lambda t: t.astimezone(timezone(timedelta(hours=8))).isoformat(),
    "Newfoundland": lambda t: t.astimezone(timezone(timedelta(hours=-3, minutes=-30))).isoformat(),
    "microseconds": lambda t: t.replace(microsecond=123456).astimezone(timezone(timedelta(hours=8))).isoformat(),
    "milliseconds Z": lambda t: t.replace(microsecond=500000).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("lines", [1, 3])
def test_a_replayed_purchase_answers_the_original_bytes(services, member, ctx, clock, spelling, lines):
    order = f"ORD-{lines}-{list(SPELLINGS).index(spelling)}"
    body = purchase_body(order, *[line(sku=f"SKU-{i}", quantity=i + 1) for i in range(lines)],
                         occurred_at=ago(clock, hours=1))
    body["occurred_at"] = SPELLINGS[spelling](ago(clock, hours=1))
    first = send(ctx, PURCHASES, member, body)
    again = send(ctx, PURCHASES, member, body)
    assert (first[0], again[0]) == (201, 200)
    assert again[1] == first[1]
    stored = record(services, order)["response"]
    assert not RECORD_PARTS & set(stored), stored  # the record gives these back


def test_a_purchase_raced_by_its_duplicate_answers_the_duplicates_bytes(services, member, ctx, clock):
    """The duplicate commits between this request's read and write: its record comes back with the
    cancelled transaction (ALL_OLD) and answers the replay."""
    body = purchase_body("ORD-RACE", line(sku="A"), line(sku="B", quantity=2), occurred_at=ago(clock, hours=1))
    body["occurred_at"] = SPELLINGS["utc Z"](ago(clock, hours=1))
    repo = services.points_repository
    real_commit, raced = repo.commit, []

    def commit_after_the_duplicate(plan):
        if not raced:
            raced.append(None)
            raced[0] = send(ctx, PURCHASES, member, body)
        return real_commit(plan)

    repo.commit = commit_after_the_duplicate
    try:
        replayed = send(ctx, PURCHASES, member, body)
    finally:
        repo.commit = real_commit
    assert (raced[0][0], replayed[0]) == (201, 200)
    assert replayed[1] == raced[0][1]


def test_a_return_replay_answers_the_original_bytes_over_both_paths(services, member, ctx, clock):
    purchase = purchase_body("ORD-R", line(sku="TEE", quantity=3), occurred_at=ago(clock, hours=2))
    assert send(ctx, PURCHASES, member, purchase)[0] == 201

    def give_back(return_id: str) -> dict:
        return {"return_id": return_id, "order_id": "ORD-R", "store_id": "SH-JINGAN", "returning_store_id": "HZ-XIHU",
                "occurred_at": ago(clock, minutes=5).astimezone(timezone(timedelta(hours=8))).isoformat(),
                "lines": [{"sku": "TEE", "quantity": 1}]}

    first = send(ctx, RETURNS, member, give_back("RET#1"), client=POS_HZ)  # a '#' in the id as well
    again = send(ctx, RETURNS, member, give_back("RET#1"), client=POS_HZ)
    assert (first[0], again[0]) == (201, 200) and again[1] == first[1]

    repo = services.points_repository
    real_commit, raced = repo.commit, []

    def commit_after_the_duplicate(plan):
        if not raced:
            raced.append(None)
            raced[0] = send(ctx, RETURNS, member, give_back("RET-2"), client=POS_HZ)
        return real_commit(plan)

    repo.commit = commit_after_the_duplicate
    try:
        replayed = send(ctx, RETURNS, member, give_back("RET-2"), client=POS_HZ)
    finally:
        repo.commit = real_commit
    assert (raced[0][0], replayed[0]) == (201, 200) and replayed[1] == raced[0][1]

    claims = record(services, "ORD-R")["returns"]
    assert set(claims) == {"HZ-XIHU#RET#1", "HZ-XIHU#RET-2"}
    for claim in claims.values():
        assert not {"member_id", "order_id", "store_id", "returning_store_id", "return_id"} & set(claim["response"])


def test_a_record_stored_with_its_whole_answer_still_replays_it(services, member, ctx, clock):
    """Records written before the answer was trimmed carry it whole: a replay answers that."""
    body = purchase_body("ORD-OLD", line(), occurred_at=ago(clock, hours=1))
    status, original = send(ctx, PURCHASES, member, body)
    assert status == 201
    key = {"PK": "PURCHASE#SH-JINGAN#ORD-OLD", "SK": "PURCHASE"}
    services.table.update_item(Key=key, UpdateExpression="SET #r = :whole", ExpressionAttributeNames={"#r": "response"},
                               ExpressionAttributeValues={":whole": json.loads(original, parse_float=str)})
    assert send(ctx, PURCHASES, member, body) == (200, original)


def test_a_purchase_of_three_lines_fits_one_kilobyte_besides_its_event(services, member, ctx, clock):
    """The record without the PurchaseRecorded.v1 it carries to the relay stays within 1 KB, and with it
    within 2 KB: billed 4 WCU in the transaction, the same as the event in an outbox item of its own."""
    from boto3.dynamodb.types import TypeSerializer

    from bench.meter import item_size

    body = purchase_body("ORD-SIZE-0123456789", *[line(sku=f"SKU-{i:08d}", category="apparel", quantity=2)
                                                  for i in range(3)], occurred_at=ago(clock, hours=1))
    assert send(ctx, PURCHASES, member, body)[0] == 201
    stored = {k: TypeSerializer().serialize(v) for k, v in record(services, "ORD-SIZE-0123456789").items()}
    carried = {k: v for k, v in stored.items() if k.startswith("evt_")}
    assert json.loads(carried["evt_detail"]["S"])["order_id"] == "ORD-SIZE-0123456789"
    assert item_size(stored) - item_size(carried) <= 1024, item_size(stored)
    assert item_size(stored) <= 2048, item_size(stored)
