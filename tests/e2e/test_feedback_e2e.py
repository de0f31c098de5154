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


def test_the_member_follows_rates_and_reopens_their_feedback_in_the_app(platform):
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    member = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    feedback_id = f"fb-{uuid.uuid4().hex[:12]}"
    accepted = platform.call("POST", "/v1/feedback", client="member-app", json={
        "feedback_id": feedback_id, "member_id": member_id, "store_id": "APP", "channel": "app", "kind": "complaint",
        "rating": 2, "text": "积分兑换的优惠券一直显示兑换失败，积分却扣了"})
    assert accepted.status_code == 202, accepted.text
    item = wait_for(platform, feedback_id)
    assert (item["primary_category"], item["department"], item["urgency"]) == ("membership_points", "membership",
                                                                               "high")
    mine = f"/v1/members/{member_id}/feedback"

    listed = platform.call("GET", mine, client="member-app").json()["items"]
    assert [(i["feedback_id"], i["status"], datetime.fromisoformat(i["expected_by"])) for i in listed] == [
        (feedback_id, "new", datetime.fromisoformat(item["due_at"]))]
    assert platform.call("GET", mine, client="pos-sh-jingan").status_code == 403

    platform.call("POST", f"/v1/feedback/{feedback_id}/resolve", client="backoffice",
                  json={"reply": "积分已退回您的账户", "note": "兑换接口超时，已提工单"}).raise_for_status()
    view = platform.call("GET", mine, client="webshop").json()["items"][0]
    assert (view["status"], view["reply"]) == ("resolved", "积分已退回您的账户")
    assert "兑换接口超时" not in str(view)

    rated = platform.call("POST", f"{mine}/{feedback_id}/rating", client="member-app", json={"rating": 2})
    assert (rated.status_code, rated.json()["rating"]) == (200, 2)
    reopened = platform.call("POST", f"{mine}/{feedback_id}/reopen", client="member-app",
                             json={"version": rated.json()["version"], "text": "优惠券还是用不了"})
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["reopen_count"]) == ("reopened", 1)
    assert platform.call("GET", f"/v1/feedback/{feedback_id}", client="backoffice").json()["status"] == "reopened"

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = platform.call("GET", "/_local/events", client=None).json()["items"]
        changes = [e["detail"]["status"] for e in events if e["detail-type"] == "FeedbackStatusChanged.v1"
                   and e["detail"].get("feedback_id") == feedback_id]
        if len(changes) == 2:
            break
        time.sleep(0.3)
    assert changes == ["resolved", "reopened"]
    assert "优惠券还是用不了" not in str(events)
