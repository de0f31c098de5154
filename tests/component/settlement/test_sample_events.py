"""The settlement sample events under events/settlement_* run through their handlers as documented."""
from __future__ import annotations

import json
from pathlib import Path

import settlement_counter
import settlement_report
from tests.component.settlement.conftest import by_store, positions
from tests.conftest import LambdaContext, response_json

EVENTS = Path(__file__).parents[3] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_every_sample_event_is_run():
    assert sorted(p.name for p in (EVENTS / "settlement_counter").glob("*.json")) == [
        "ledger-entries.json", "redelivered.json"]
    assert sorted(p.name for p in (EVENTS / "settlement_report").glob("*.json")) == [
        "range-too-long.json", "report-store.json", "report.json"]


def test_counter_samples_count_once_and_the_report_samples_read_them(services, ledger):
    for name in ("ledger-entries.json", "redelivered.json"):  # the second sends the last three again
        assert settlement_counter.handler(load(f"settlement_counter/{name}"), LambdaContext()) == {
            "batchItemFailures": []}

    response = settlement_report.handler(load("settlement_report/report.json"), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    stores = by_store(response_json(response))
    assert (stores["SH-JINGAN"]["issued"], stores["HZ-XIHU"]["issued"]) == (300, 100)
    assert (stores["HZ-XIHU"]["redeemed"], stores["WEB"]["captured"]) == (200, 100)
    assert positions(stores["SH-JINGAN"]) == {"HZ-XIHU": (0, 150, -150, "-1.50"), "WEB": (0, 75, -75, "-0.75")}

    response = settlement_report.handler(load("settlement_report/report-store.json"), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    [hangzhou] = response_json(response)["stores"]
    assert positions(hangzhou) == {"SH-JINGAN": (150, 0, 150, "1.50"), "WEB": (0, 25, -25, "-0.25")}

    response = settlement_report.handler(load("settlement_report/range-too-long.json"), LambdaContext())
    assert (response["statusCode"], response_json(response)["error"]["field"]) == (400, "to")
