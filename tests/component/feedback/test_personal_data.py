"""Feedback text may hold personal data: it never reaches the logs or the events, on any path."""
from __future__ import annotations

import json

import feedback_intake
import feedback_staff
from tests.component.feedback.conftest import message, process, queue_messages, sqs_record
from tests.conftest import BACKOFFICE, LambdaContext, api_event, enroll_as

PHONE = "13912345678"
NAME = "李秀英"
TEXT = f"我是{NAME}，电话{PHONE}，买的奶粉罐子有破损，孩子喝了过敏"
NOTE = f"已致电{NAME}（{PHONE}）道歉并退款"
SECRETS = [PHONE, NAME, "奶粉罐子"]


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text or json.dumps(s)[1:-1] in text]


def test_no_feedback_text_in_logs_or_events(services, rewarder, publisher, queue_url, log_output, chosen_ids):
    ctx = LambdaContext()
    enroll_as(services, chosen_ids, "mbr_01JD0000000000000000000003", "13800000003")
    body = {"feedback_id": "SH-JINGAN-T02-20261118-0031", "member_id": "mbr_01JD0000000000000000000003",
            "store_id": "SH-JINGAN", "channel": "pos", "kind": "complaint", "rating": 1, "text": TEXT}
    assert feedback_intake.handler(api_event("POST", "/v1/feedback", body=body), ctx)["statusCode"] == 202
    refused = feedback_intake.handler(api_event("POST", "/v1/feedback", body={**body, "rating": 9}), ctx)
    assert refused["statusCode"] == 400
    queued = json.loads(queue_messages(services.sqs, queue_url)[0]["Body"])

    malformed = sqs_record(json.dumps({**queued, "rating": "一星"}, ensure_ascii=False))
    reused = message(feedback_id=body["feedback_id"], text=TEXT + "（补充）")
    rewarder.fail_next = 1
    process(queued, malformed, reused)  # stored, malformed, id reused; the reward fails once
    process(queued)

    path = {"feedback_id": body["feedback_id"]}
    for action, payload in [("acknowledge", {}), ("assign", {"assignee": NAME}), ("resolve", {"reply": NOTE, "note": NOTE})]:
        response = feedback_staff.handler(api_event("POST", "/v1/feedback/{feedback_id}/" + action,
                                                    path_params=path, body=payload, client=BACKOFFICE), ctx)
        assert response["statusCode"] == 200, response
    detail = feedback_staff.handler(api_event("GET", "/v1/feedback/{feedback_id}", path_params=path,
                                              client=BACKOFFICE), ctx)
    assert PHONE in detail["body"]  # staff do see the text: it reaches them, just not logs or events

    logs = log_output()
    assert '"feedback processed"' in logs and '"feedback message failed"' in logs
    assert leaked(logs) == []
    events = json.dumps([e.envelope() for e in publisher.events], ensure_ascii=False)
    feedback_events = {t for t in publisher.types() if t.startswith("Feedback")}
    assert feedback_events == {"FeedbackReceived.v1", "FeedbackEscalated.v1", "FeedbackResolved.v1",
                              "FeedbackStatusChanged.v1"}
    assert leaked(events) == []
