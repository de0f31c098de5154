"""The sample events under events/points, events/program and events/points_activation run through
their handlers as the local run would fire them, for a member enrolled first."""
from __future__ import annotations

import json
from pathlib import Path

import points
import points_activation
import program
from tests.component.points.conftest import enroll
from tests.component.rewards.test_sample_events import PROGRAM_SAMPLES as REWARD_SAMPLES

EVENTS = Path(__file__).parents[3] / "events"
SAMPLE_MEMBER = "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E"

# in order: the rules first (they add a return window), then what a day at the stores looks like
EXPECTED = [
    (program, "program/get-rules", 200),
    (program, "program/put-rules", 200),
    (points, "points/purchase-pos", 201),
    (points, "points/purchase-pos", 200),
    (points, "points/purchase-offline-posted-late", 201),
    (points, "points/purchase-too-late", 422),
    (points, "points/purchase-webshop", 201),
    (points, "points/purchase-other-store-forbidden", 403),
    (points, "points/return-partial-other-store", 201),
    (points, "points/return-whole-order", 201),
    (points, "points/activity-check-in", 201),
    (points, "points/activity-review-app", 201),
    (points, "points/adjustment-backoffice", 201),
    (points, "points/get-points", 200),
    (points, "points/get-ledger", 200),
]


def load(name: str, member_id: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text().replace(SAMPLE_MEMBER, member_id))


def test_every_sample_event_gets_its_expected_answer(services, ctx, clock):
    member_id = enroll(services)
    answers = {}
    for module, name, expected in EXPECTED:
        response = module.handler(load(name, member_id), ctx)
        assert response["statusCode"] == expected, (name, response["body"])
        answers[name] = json.loads(response["body"])
    purchase = answers["points/purchase-pos"]
    assert purchase["status"] == "pending"
    assert purchase["points"] == 824  # 486 base, beauty ×2 adds 288, the serum's SKU bonus 50; gift card excluded
    assert answers["points/get-points"]["pending"] > 0

    clock.advance(days=8)
    run = points_activation.handler(load("points_activation/scheduled", member_id), ctx)
    assert run["activated"] == 2  # the offline and the webshop purchase; the returned one has nothing left


def test_every_sample_event_file_is_exercised():
    files = {str(p.relative_to(EVENTS).with_suffix("")) for folder in ("points", "program")
             for p in (EVENTS / folder).glob("*.json")}
    assert files == {name for _module, name, _status in EXPECTED} | REWARD_SAMPLES  # rewards: their own test
