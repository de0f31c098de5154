"""Submission, message and configuration validation."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from loyalty.feedback.domain import FeedbackMessage, FeedbackSubmission
from loyalty.feedback.config import DEFAULT_FEEDBACK_CONFIG, FeedbackConfig

BASE = {"feedback_id": "SH-JINGAN-T01-0001", "store_id": "SH-JINGAN", "channel": "pos", "kind": "complaint",
        "rating": 2, "text": "  收银员态度冷漠  "}


def test_a_submission_is_trimmed_and_fingerprinted_per_client():
    submission = FeedbackSubmission(**BASE)

    assert submission.text == "收银员态度冷漠"
    assert submission.fingerprint("pos-a") == FeedbackSubmission(**BASE).fingerprint("pos-a")
    assert submission.fingerprint("pos-a") != submission.fingerprint("pos-b")
    assert submission.fingerprint("pos-a") != FeedbackSubmission(**{**BASE, "rating": 3}).fingerprint("pos-a")


def test_the_queue_message_fingerprints_like_the_submission_it_carries():
    message = FeedbackMessage(**BASE, client_id="pos-a", received_at="2026-11-18T02:00:00Z")

    assert message.fingerprint("pos-a") == FeedbackSubmission(**BASE).fingerprint("pos-a")


def test_a_message_tolerates_fields_a_newer_intake_adds_but_needs_an_aware_time():
    FeedbackMessage(**BASE, client_id="pos-a", received_at="2026-11-18T02:00:00Z", sentiment_hint="neg")
    with pytest.raises(ValidationError):
        FeedbackMessage(**BASE, client_id="pos-a", received_at="2026-11-18T02:00:00")


@pytest.mark.parametrize("change", [
    {"rating": 0}, {"rating": 5.5}, {"rating": True}, {"nps": -1}, {"text": ""}, {"text": "差" * 2001},
    {"feedback_id": "a b c d e f"}, {"order_id": "订单1"}, {"rating": None, "text": None},
])
def test_invalid_submissions(change):
    with pytest.raises(ValidationError):
        FeedbackSubmission(**{**BASE, **change})


def test_the_default_configuration_routes_every_category_and_validates():
    assert FeedbackConfig.model_validate(DEFAULT_FEEDBACK_CONFIG.model_dump(mode="json")) == DEFAULT_FEEDBACK_CONFIG


def test_keywords_are_normalised_and_deduplicated():
    data = DEFAULT_FEEDBACK_CONFIG.model_dump(mode="json")
    data["keywords"]["other"] = ["Gift  Wrap", "gift wrap", "礼品包装", "礼品包装"]

    assert FeedbackConfig.model_validate(data).keywords["other"] == ["gift wrap", "礼品包装"]
