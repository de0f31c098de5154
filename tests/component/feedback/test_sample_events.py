"""The feedback sample events under events/feedback_* run through their handlers as documented."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import feedback_intake
import feedback_member
import feedback_overdue
import feedback_processor
import feedback_staff
from tests.component.feedback.conftest import failed_ids
from tests.conftest import LambdaContext, enroll_as, response_json

EVENTS = Path(__file__).parents[3] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def call(module, name: str):
    return module.handler(load(name), LambdaContext())


@pytest.mark.parametrize("name, status", [
    ("feedback_intake/complaint-pos.json", 202),
    ("feedback_intake/webshop-rating.json", 202),
    ("feedback_intake/app-suggestion.json", 202),
    ("feedback_intake/invalid-rating.json", 400),
])
def test_intake_samples(services, chosen_ids, name, status):
    enroll_as(services, chosen_ids, "mbr_01JD5Z8Q7K3M2N4P6R8T0V2X4Y", "13800000001")  # the samples' member
    assert call(feedback_intake, name)["statusCode"] == status


def test_processor_batch_reports_only_the_malformed_message(services, rewarder, publisher):
    batch = load("feedback_processor/batch.json")
    malformed = [r["messageId"] for r in batch["Records"] if not r["body"].endswith("}")]

    response = feedback_processor.handler(batch, LambdaContext())

    assert failed_ids(response) == malformed
    assert publisher.types().count("FeedbackReceived.v1") == 3
    assert publisher.types().count("FeedbackEscalated.v1") == 1  # the allergy; the rating-2 complaint is high


def test_processor_duplicate_sample_stores_once(services, rewarder, publisher):
    response = call(feedback_processor, "feedback_processor/duplicate.json")

    assert failed_ids(response) == []
    assert publisher.types().count("FeedbackReceived.v1") == 1


def test_staff_samples_walk_an_item_through_its_workflow(services, rewarder, clock, chosen_ids):
    enroll_as(services, chosen_ids, "mbr_01JD5Z8Q7K3M2N4P6R8T0V2X4Y", "13800000001")  # the samples' member
    call(feedback_processor, "feedback_processor/batch.json")
    expected = [
        ("feedback_staff/list-urgent-new.json", 200),
        ("feedback_staff/get.json", 200),
        ("feedback_staff/acknowledge.json", 200),
        ("feedback_staff/assign.json", 200),
        ("feedback_staff/resolve.json", 200),
        ("feedback_staff/resolve-again-conflict.json", 409),
        ("feedback_staff/resolve-in-progress.json", 200),
        ("feedback_member/list.json", 200),
        ("feedback_member/rate.json", 200),
        ("feedback_member/reopen.json", 200),
        ("feedback_member/reopen-other-member.json", 404),
        ("feedback_member/invite-after-purchase.json", 200),
        ("feedback_staff/list-store-overdue.json", 200),
        ("feedback_staff/config-get.json", 200),
        ("feedback_staff/config-put.json", 200),
        ("feedback_staff/report.json", 200),
        ("feedback_staff/report-store.json", 200),
    ]
    answers = {}
    for name, status in expected:
        response = call(feedback_member if name.startswith("feedback_member/") else feedback_staff, name)
        assert response["statusCode"] == status, (name, response["body"])
        answers[name] = response_json(response)

    assert len(answers["feedback_staff/list-urgent-new.json"]["items"]) == 1
    assert answers["feedback_staff/report-store.json"]["totals"]["count"] == 1
    assert answers["feedback_staff/resolve-in-progress.json"]["status"] == "in_progress"
    mine = answers["feedback_member/list.json"]["items"]
    assert "SH-JINGAN-T01-20261118-0007" in [i["feedback_id"] for i in mine]
    assert all("resolution_note" not in i and "assignee" not in i for i in mine)
    assert answers["feedback_member/reopen.json"]["status"] == "reopened"
    assert answers["feedback_member/invite-after-purchase.json"]["invited"] is True


def test_overdue_sample(services, rewarder):
    assert call(feedback_overdue, "feedback_overdue/scheduled.json") == {"flagged": 0, "notified": 0}
