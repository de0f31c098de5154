"""The sample events under events/tiers and events/tier_review run through their handlers as the local run
(`make invoke`) would fire them, in order, for the member the samples name."""
from __future__ import annotations

import json
from pathlib import Path

import tier_review
import tiers
from tests.conftest import enroll_as, response_json

EVENTS = Path(__file__).parents[3] / "events"
SAMPLE_MEMBER = "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E"
EXPECTED = [  # in order, with the status each answers
    ("tiers/get-ladder", 200),
    ("tiers/put-ladder-monthly-review", 200),
    ("tiers/set-tier-locked", 200),
    ("tiers/get-benefits", 200),
    ("tiers/claim-monthly-voucher", 200),
    ("tiers/claim-birthday-benefit", 200),
    ("tiers/get-tier-history", 200),
]


def test_every_tiers_sample_is_covered():
    found = {f"{p.parent.name}/{p.stem}" for folder in ("tiers",) for p in (EVENTS / folder).glob("*.json")}
    assert found == {name for name, _status in EXPECTED}


def test_the_tiers_samples_answer_as_documented(services, chosen_ids, ctx):
    enroll_as(services, chosen_ids, SAMPLE_MEMBER, "13900139000")
    services.table.update_item(Key={"PK": f"MEMBER#{SAMPLE_MEMBER}", "SK": "PROFILE"},  # born in November
                               UpdateExpression="SET birthday = :b", ExpressionAttributeValues={":b": "1992-11-20"})
    answers = {}
    for name, status in EXPECTED:
        response = tiers.handler(json.loads((EVENTS / f"{name}.json").read_text()), ctx)
        assert response["statusCode"] == status, (name, response["body"])
        answers[name] = response_json(response)
    assert answers["tiers/get-benefits"]["tier"] == "gold"
    assert answers["tiers/get-benefits"]["locked_until"] == "2027-06-30"
    assert [h["reason"] for h in answers["tiers/get-tier-history"]["items"]] == ["manual"]
    assert answers["tiers/claim-birthday-benefit"]["bonus_points"] == 1000  # gold's birthday bonus


def test_the_review_sample_runs_the_review(services, ctx):
    result = tier_review.handler(json.loads((EVENTS / "tier_review/scheduled.json").read_text()), ctx)
    assert result["complete"] is True and result["failed"] == 0
