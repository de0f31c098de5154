"""The scheduled overdue check: flag once, status unchanged, one FeedbackOverdue.v1 per item."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import feedback_overdue
from tests.component.feedback.conftest import history_items, message, process, staff
from tests.conftest import LambdaContext

SCHEDULED = json.loads((Path(__file__).parents[3] / "events/feedback_overdue/scheduled.json").read_text())


def run_check() -> dict:
    return feedback_overdue.handler(SCHEDULED, LambdaContext())


def overdue_events(publisher) -> list[str]:
    return [e.detail["feedback_id"] for e in publisher.events if e.detail_type == "FeedbackOverdue.v1"]


def test_items_past_due_are_flagged_once_and_keep_their_status(services, rewarder, clock, publisher):
    urgent, normal, resolved_in_time = (
        message(text="熟食区的鸡腿吃了拉肚子", rating=1),  # due in 4 h
        message(text="希望会员日能延长到周末", kind="suggestion", rating=None),  # due in 48 h
        message(text="收银台排队太久", rating=1),  # high: due in 24 h, resolved before that
    )
    process(urgent, normal, resolved_in_time)
    staff("POST", "/v1/feedback/{feedback_id}/assign", path_params={"feedback_id": urgent["feedback_id"]},
          body={"assignee": "store-li"})
    staff("POST", "/v1/feedback/{feedback_id}/resolve", path_params={"feedback_id": resolved_in_time["feedback_id"]},
          body={"reply": "已增开收银台"})

    assert run_check() == {"flagged": 0, "notified": 0}

    clock.advance(hours=4, minutes=15)
    assert run_check() == {"flagged": 1, "notified": 1}
    assert overdue_events(publisher) == [urgent["feedback_id"]]
    item = services.feedback_repository.get(urgent["feedback_id"])
    assert (item.status.value, item.overdue, item.version) == ("assigned", True, 2)
    assert [h["action"] for h in sorted(history_items(services, urgent["feedback_id"]), key=lambda h: h["SK"])] == [
        "received", "assigned", "overdue"]

    clock.advance(minutes=15)
    assert run_check() == {"flagged": 0, "notified": 0}  # announced once, not every quarter hour

    clock.advance(hours=48)
    assert run_check() == {"flagged": 1, "notified": 1}
    assert overdue_events(publisher) == [urgent["feedback_id"], normal["feedback_id"]]
    assert not services.feedback_repository.get(resolved_in_time["feedback_id"]).overdue


def test_a_staff_change_after_flagging_keeps_the_flag(services, rewarder, clock):
    body = message(text="店内插座冒火花", rating=1)
    process(body)
    clock.advance(hours=5)
    run_check()

    status, item = staff("POST", "/v1/feedback/{feedback_id}/acknowledge",
                         path_params={"feedback_id": body["feedback_id"]}, body={"version": 1})

    assert (status, item["overdue"], item["status"]) == (200, True, "acknowledged")
    assert services.feedback_repository.get(body["feedback_id"]).overdue_at is not None


def test_an_announcement_that_failed_is_sent_by_the_next_run(services, rewarder, clock, publisher):
    body = message(text="生鲜柜台的鱼有异味，吃了肚子疼", rating=1)
    process(body)
    clock.advance(hours=5)
    real_publish = publisher.publish

    def bus_down(events):
        if any(e.detail_type == "FeedbackOverdue.v1" for e in events):
            raise RuntimeError("EventBridge unavailable")
        real_publish(events)

    publisher.publish = bus_down
    with pytest.raises(RuntimeError):
        run_check()
    publisher.publish = real_publish
    assert services.feedback_repository.get(body["feedback_id"]).overdue  # flagged, not yet announced

    assert run_check() == {"flagged": 0, "notified": 1}
    assert overdue_events(publisher) == [body["feedback_id"]]
