"""Feedback through the real queue and consumer of the local run: post over HTTP, see it classified and
routed within seconds, resolve it, see the report change."""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.e2e


def wait_for(platform, feedback_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = platform.call("GET", f"/v1/feedback/{feedback_id}", client="backoffice")
        if response.status_code == 200:
            return response.json()
        time.sleep(0.3)
    pytest.fail(f"feedback {feedback_id} was not processed within {timeout}s")


def report(platform, store_id: str) -> dict:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # report days are store-local
    response = platform.call("GET", f"/v1/reports/feedback?from={today}&to={today}&store_id={store_id}",
                             client="backoffice")
    assert response.status_code == 200, response.text
    return response.json()


def test_complaint_is_queued_classified_routed_resolved_and_reported(platform):
    before = report(platform, "CD-CHUNXI")["totals"]
    feedback_id = f"fb-{uuid.uuid4().hex[:12]}"
    accepted = platform.call("POST", "/v1/feedback", client="pos-cd-chunxi", json={
        "feedback_id": feedback_id, "store_id": "CD-CHUNXI", "channel": "pos", "kind": "complaint", "rating": 1,
        "text": "昨天买的酸奶打开就变质了，孩子喝了以后肚子疼，怀疑食物中毒，请尽快处理！"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["feedback_id"] == feedback_id

    item = wait_for(platform, feedback_id)
    assert item["primary_category"] == "product_quality"
    assert item["urgency"] == "urgent"
    assert item["department"] == "quality_management"
    assert item["status"] == "new"

    resolved = platform.call("POST", f"/v1/feedback/{feedback_id}/resolve", client="backoffice",
                             json={"reply": "门店已下架同批次酸奶，已致电道歉并全额退款", "note": "同批次送检"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"

    after = report(platform, "CD-CHUNXI")["totals"]
    assert after["count"] == before["count"] + 1
    assert after["resolution"]["resolved_on_time"] == before["resolution"]["resolved_on_time"] + 1
    assert after["by_category"].get("product_quality", 0) == before["by_category"].get("product_quality", 0) + 1


def test_same_feedback_id_posted_twice_is_stored_once(platform):
    feedback_id = f"fb-{uuid.uuid4().hex[:12]}"
    body = {"feedback_id": feedback_id, "store_id": "WEB", "channel": "webshop", "kind": "praise", "nps": 10,
            "text": "Delivery was fast and the courier was very polite."}
    assert platform.call("POST", "/v1/feedback", client="webshop", json=body).status_code == 202
    assert platform.call("POST", "/v1/feedback", client="webshop", json=body).status_code == 202
    item = wait_for(platform, feedback_id)
    listed = platform.call("GET", "/v1/feedback?store_id=WEB&limit=100", client="backoffice").json()
    assert [i["feedback_id"] for i in listed["items"]].count(feedback_id) == 1
    assert item["primary_category"] == "delivery_logistics"


def test_staff_api_needs_a_back_office_key_and_intake_validates(platform):
    assert platform.call("GET", "/v1/feedback", client="pos-sh-jingan").status_code == 403
    bad = platform.call("POST", "/v1/feedback", client="pos-sh-jingan", json={
        "feedback_id": "fb-bad-rating", "store_id": "SH-JINGAN", "channel": "pos", "kind": "complaint", "rating": 9})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "rating"
