"""The sample events under events/kpi_events, events/kpis, events/kpi_reconciliation and events/kpi_digest run
through their handlers as the local run (`make invoke`) would fire them, in order."""
from __future__ import annotations

import json
from pathlib import Path

import kpi_digest
import kpi_events
import kpi_reconciliation
import kpis
from tests.conftest import response_json

EVENTS = Path(__file__).parents[3] / "events"
FOLDERS = ("kpi_events", "kpis", "kpi_reconciliation", "kpi_digest")
EXPECTED = [  # in order: (sample, handler, status for the API's samples)
    ("kpi_events/purchase-recorded", kpi_events, None),
    ("kpis/report-by-city", kpis, 200),
    ("kpis/report-by-month-csv", kpis, 200),
    ("kpis/report-store-manager", kpis, 200),
    ("kpi_reconciliation/on-demand", kpi_reconciliation, None),
    ("kpi_reconciliation/scheduled", kpi_reconciliation, None),
    ("kpis/reconciliation", kpis, 200),
    ("kpi_digest/scheduled", kpi_digest, None),
]


def test_every_kpi_sample_is_covered():
    found = {f"{folder}/{p.stem}" for folder in FOLDERS for p in (EVENTS / folder).glob("*.json")}
    assert found == {name for name, _handler, _status in EXPECTED}


def test_the_kpi_samples_answer_as_documented(services, ctx):
    answers = {}
    for name, handler, status in EXPECTED:
        answer = handler.handler(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")), ctx)
        if status is not None:
            assert answer["statusCode"] == status, (name, answer["body"])
        answers[name] = answer
    assert answers["kpi_events/purchase-recorded"] == {"batchItemFailures": []}
    by_city = {row["group"]: row["figures"] for row in response_json(answers["kpis/report-by-city"])["rows"]}
    assert by_city["上海"]["spend"] == "686.00" and by_city["上海"]["discount_share"] == "0.4198"
    assert answers["kpis/report-by-month-csv"]["body"].splitlines()[0].startswith("month,")
    manager = response_json(answers["kpis/report-store-manager"])
    assert [row["group"] for row in manager["rows"]] == ["SH-JINGAN"]
    assert response_json(answers["kpis/reconciliation"])["day"] == "2026-11-18"
    assert answers["kpi_digest/scheduled"]["month"] == "2026-10"
