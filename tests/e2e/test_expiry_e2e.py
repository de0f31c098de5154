"""Points expiry against the local run: the balance read leaves out a month that has ended at once; the
schedule hands out its partitions; a task on the expiry queue reaches the worker through the local queue
consumer, which writes the expiry entry and PointsExpired.v1 reaches the bus; the same task again
changes nothing."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import boto3
import pytest

from local.endpoints import read_endpoints
from loyalty.points.dynamo import expiry_shard
from loyalty.points.ports import ExpiryTask

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")


def wait_for(check, timeout: float = 180.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out")


@pytest.fixture
def one_month_rules(platform):
    """Points expire at the end of the month after earning, and a purchase may be posted 90 days late;
    the rules in force before come back afterwards."""
    before = platform.call("GET", "/v1/program/rules", client="backoffice").json()
    changed = {**before, "expiry_policy": "rolling_months", "expiry_months": 1, "late_purchase_days": 90}
    response = platform.call("PUT", "/v1/program/rules", client="backoffice", json=changed)
    assert response.status_code == 200, response.text
    yield response.json()
    current = platform.call("GET", "/v1/program/rules", client="backoffice").json()
    platform.call("PUT", "/v1/program/rules", client="backoffice",
                  json={**before, "version": current["version"]})


def expiry_queue():
    endpoints = read_endpoints()
    sqs = boto3.client("sqs", endpoint_url=endpoints["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    return sqs, endpoints["queues"]["ExpiryQueue"]


def test_points_of_an_ended_month_leave_the_read_at_once_and_the_ledger_through_the_job(platform, phone,
                                                                                         one_month_rules):
    enrolled = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert enrolled.status_code == 201, enrolled.text
    member_id = enrolled.json()["member_id"]
    occurred = datetime.now(timezone.utc) - timedelta(days=80)  # its month ended at least a month ago
    purchase = {
        "order_id": f"EXP-{phone}", "store_id": "SH-JINGAN", "channel": "pos", "occurred_at": occurred.isoformat(),
        "currency": "CNY", "payment_method": "alipay", "total": "88.00",
        "lines": [{"sku": "TEA-1", "category": "grocery", "quantity": 1, "unit_price": "88.00", "amount": "88.00"}]}

    def posted():  # a warm container may hold the rules from before the fixture's change for up to a minute
        response = platform.call("POST", f"/v1/members/{member_id}/purchases", json=purchase)
        late = response.status_code == 422 and response.json()["error"]["code"] == "SUBMITTED_TOO_LATE"
        return None if late else response

    bought = wait_for(posted, timeout=90.0, every=2.0)
    assert bought.status_code == 201, bought.text
    assert bought.json()["balance"]["available"] == 88  # as written: the month's end is the job's to record

    points = platform.call("GET", f"/v1/members/{member_id}/points", client="webshop").json()
    assert (points["available"], points["expiring"]) == (0, [])  # the read leaves the ended month out

    fired = platform.call("POST", "/_local/schedules/PointsExpirySchedule", client=None).json()
    assert "error" not in fired, fired
    today = datetime.now(SHANGHAI).date()
    assert fired["result"]["days"][-1] == today.isoformat()

    # The member's day is tomorrow (a write never schedules the job for a day whose run may be over):
    # hand its partition to the queue as tomorrow's schedule will.
    sqs, url = expiry_queue()
    task = ExpiryTask(day=today + timedelta(days=1), shard=expiry_shard(member_id)).model_dump_json()
    sqs.send_message(QueueUrl=url, MessageBody=task)

    def ledger_types():
        items = platform.call("GET", f"/v1/members/{member_id}/ledger", client="webshop").json()["items"]
        return [e["type"] for e in items] if any(e["type"] == "expiry" for e in items) else None

    assert wait_for(ledger_types) == ["expiry", "earn"]
    events = wait_for(lambda: [e for e in platform.call("GET", "/_local/events", client=None).json()["items"]
                               if e.get("detail-type") == "PointsExpired.v1"
                               and e["detail"]["member_id"] == member_id])
    assert [(e["detail"]["points"], e["detail"]["origins"]) for e in events] == [(88, {"SH-JINGAN": 88})]

    sqs.send_message(QueueUrl=url, MessageBody=task)  # the same task again
    wait_for(lambda: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"]) == 0)
    time.sleep(2)
    assert ledger_types() == ["expiry", "earn"]
    assert platform.call("GET", f"/v1/members/{member_id}/points", client="webshop").json()["available"] == 0
