"""The sample events under events/insight_events, events/insight and events/insight_check run through their
handlers as the local run (`make invoke`) would fire them, in order."""
from __future__ import annotations

import json
from pathlib import Path

import insight
import insight_check
import insight_events
from tests.conftest import response_json

EVENTS = Path(__file__).parents[3] / "events"
FOLDERS = ("insight_events", "insight", "insight_check")
EXPECTED = [  # in order: (sample, handler, status for the API's samples)
    ("insight_events/purchase-recorded", insight_events, None),
    ("insight/get-insight", insight, 200),
    ("insight_check/scheduled", insight_check, None),
    ("insight/churn-risk-list", insight, 200),
    ("insight/churn-risk-contacted", insight, 404),  # nobody is at risk after one purchase
]


def test_every_insight_sample_is_covered():
    found = {f"{folder}/{p.stem}" for folder in FOLDERS for p in (EVENTS / folder).glob("*.json")}
    assert found == {name for name, _handler, _status in EXPECTED}


def test_the_insight_samples_answer_as_documented(services, ctx):
    answers = {}
    for name, handler, status in EXPECTED:
        answer = handler.handler(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")), ctx)
        if status is not None:
            assert answer["statusCode"] == status, (name, answer["body"])
        answers[name] = answer
    assert answers["insight_events/purchase-recorded"] == {"batchItemFailures": []}
    seen = response_json(answers["insight/get-insight"])
    assert (seen["figures"]["orders_total"], seen["figures"]["new_product_share"]) == (1, "0.4198")
    assert response_json(answers["insight/churn-risk-list"])["items"] == []
    assert response_json(answers["insight/churn-risk-contacted"])["error"]["code"] == "CHURN_RISK_NOT_FOUND"
