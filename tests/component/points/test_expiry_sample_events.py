"""The sample events under events/points_expiry and events/points_expiry_worker run through their
handlers as the schedule and the expiry queue would deliver them, for the sample member whose points
(earned in November, one month's expiry) end on 31 December."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import points_expiry
import points_expiry_worker
from loyalty.points.dynamo import expiry_shard
from loyalty.points.ports import ExpiryTask
from tests.component.points.conftest import ago, purchase_body, set_rules
from tests.conftest import enroll_as

EVENTS = Path(__file__).parents[3] / "events"
SAMPLE_MEMBER = "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E"
FIRED_AT = datetime(2026, 12, 31, 16, 5, tzinfo=timezone.utc)  # the schedule's time: 00:05 on 1 January in Shanghai

# in order: the continuation reaches the sample member first, the whole partition then finds it done
WORKER_EXPECTED = [
    ("points_expiry_worker/continuation", 0),  # failed records
    ("points_expiry_worker/partition", 0),
    ("points_expiry_worker/malformed", 1),
]


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_the_sample_events_expire_the_sample_members_points_once(services, chosen_ids, ctx, clock, publisher):
    import points

    enroll_as(services, chosen_ids, SAMPLE_MEMBER, "13912345678")
    set_rules(services, expiry_months=1)
    response = points.handler(_purchase_event(SAMPLE_MEMBER, ago(clock, hours=1)), ctx)
    assert response["statusCode"] == 201, response["body"]
    clock.current = datetime(2026, 11, 30, 16, 5, tzinfo=timezone.utc)  # 1 December: the notice goes out
    services.points_expiry.run(ExpiryTask(day=date(2026, 12, 1), shard=expiry_shard(SAMPLE_MEMBER)))
    assert [e.detail_type for e in publisher.events][-1] == "PointsExpiringSoon.v1"

    clock.current = FIRED_AT
    scheduled = load("points_expiry/scheduled")
    assert scheduled["time"] == FIRED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    dispatched = points_expiry.handler(scheduled, ctx)
    assert dispatched["days"][-1] == "2027-01-01" and dispatched["tasks"] == 16 * len(dispatched["days"])

    for name, failures in WORKER_EXPECTED:
        event = load(name)
        if name.endswith("partition") or name.endswith("continuation"):
            assert json.loads(event["Records"][0]["body"])["shard"] == expiry_shard(SAMPLE_MEMBER)
        answer = points_expiry_worker.handler(event, ctx)
        assert len(answer["batchItemFailures"]) == failures, name
    expired = [e for e in publisher.events if e.detail_type == "PointsExpired.v1"]
    assert [e.detail for e in expired] == [
        {"member_id": SAMPLE_MEMBER, "points": 100, "months": ["2026-12"], "origins": {"SH-JINGAN": 100}}]


def _purchase_event(member_id: str, occurred_at: datetime) -> dict:
    from tests.conftest import api_event

    return api_event("POST", "/v1/members/{member_id}/purchases", path_params={"member_id": member_id},
                     body=purchase_body("O-SAMPLE-1", occurred_at=occurred_at))


def test_every_expiry_sample_event_file_is_exercised():
    files = {str(p.relative_to(EVENTS).with_suffix("")) for folder in ("points_expiry", "points_expiry_worker")
             for p in (EVENTS / folder).glob("*.json")}
    assert files == {name for name, _ in WORKER_EXPECTED} | {"points_expiry/scheduled"}
