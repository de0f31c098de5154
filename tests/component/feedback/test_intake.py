"""POST /v1/feedback: validated, queued, answered 202 at once; nothing written to the table."""
from __future__ import annotations

import json

import pytest

import feedback_intake
from tests.component.feedback.conftest import process, queue_messages, submission
from tests.conftest import BACKOFFICE, POS_SH, WEBSHOP, api_event, enroll_as, response_json


def post(body, client=POS_SH, ctx=None):
    from tests.conftest import LambdaContext

    response = feedback_intake.handler(api_event("POST", "/v1/feedback", body=body, client=client),
                                       ctx or LambdaContext())
    return response["statusCode"], response_json(response)


def table_count(services) -> int:
    return services.table.scan(Select="COUNT")["Count"]


def test_intake_answers_202_and_puts_exactly_one_message_on_the_queue(services, queue_url, chosen_ids):
    enroll_as(services, chosen_ids, "mbr_01JD0000000000000000000000", "13800000002")
    body = submission(member_id="mbr_01JD0000000000000000000000", order_id="SO-20261118-0042",
                      text="收银员找错零钱，态度还很不耐烦。")
    items_before = table_count(services)

    status, answer = post(body)

    assert status == 202
    assert answer == {"feedback_id": body["feedback_id"], "status": "accepted",
                      "received_at": "2026-11-18T02:00:00+00:00"}
    messages = queue_messages(services.sqs, queue_url)
    assert len(messages) == 1
    queued = json.loads(messages[0]["Body"])
    assert queued == {**body, "client_id": "pos-sh-jingan", "received_at": "2026-11-18T02:00:00Z"}
    assert messages[0]["MessageAttributes"]["feedback_id"]["StringValue"] == body["feedback_id"]
    assert table_count(services) == items_before  # the API writes nothing; the processor does


def test_a_webshop_rating_with_nps_and_no_text_is_accepted(services, queue_url):
    body = submission(store_id="WEB", channel="webshop", kind="survey", rating=4, nps=9, text=None,
                      order_id="WEB-88001234")

    status, _ = post(body, client=WEBSHOP)

    assert status == 202
    assert len(queue_messages(services.sqs, queue_url)) == 1


@pytest.mark.parametrize("change, field", [
    ({"rating": 6}, "rating"),
    ({"rating": "5"}, "rating"),
    ({"nps": 11}, "nps"),
    ({"text": "太" * 2001}, "text"),
    ({"feedback_id": "x1"}, "feedback_id"),
    ({"feedback_id": None}, "feedback_id"),
    ({"kind": "rant"}, "kind"),
    ({"channel": "fax"}, "channel"),
    ({"member_id": "13812345678"}, "member_id"),
    ({"store_id": None}, "store_id"),
    ({"surprise": True}, "surprise"),
])
def test_invalid_feedback_is_refused_with_400_naming_the_field(services, queue_url, change, field):
    body = {**submission(), **change}
    body = {k: v for k, v in body.items() if v is not None}

    status, answer = post(body)

    assert status == 400
    assert answer["error"]["field"] == field
    assert queue_messages(services.sqs, queue_url) == []


def test_feedback_that_says_nothing_is_refused(services, queue_url):
    status, answer = post(submission(rating=None, text=None))

    assert status == 400
    assert "at least one of text, rating or nps" in answer["error"]["message"]


def test_a_till_may_only_send_feedback_for_its_own_store(services, queue_url):
    status, answer = post(submission(store_id="HZ-XIHU"), client=POS_SH)

    assert (status, answer["error"]["code"]) == (403, "STORE_NOT_ALLOWED")
    assert queue_messages(services.sqs, queue_url) == []


def test_an_unknown_store_is_refused(services, queue_url):
    status, answer = post(submission(store_id="BJ-NOWHERE"), client=BACKOFFICE)

    assert (status, answer["error"]["code"], answer["error"]["field"]) == (400, "UNKNOWN_STORE", "store_id")


def test_a_client_without_the_feedback_scope_is_refused(services, queue_url):
    reader = {**POS_SH, "scopes": "members:read"}

    status, answer = post(submission(), client=reader)

    assert (status, answer["error"]["code"]) == (403, "MISSING_SCOPE")


def test_resending_stored_feedback_is_answered_again_and_not_queued_twice(services, rewarder, queue_url):
    body = submission(text="希望增加无糖饮品的选择")
    status, first = post(body)
    queued = queue_messages(services.sqs, queue_url)
    process(json.loads(queued[0]["Body"]))
    services.sqs.purge_queue(QueueUrl=queue_url)
    services.clock.advance(minutes=3)

    status, again = post(body)

    assert status == 202
    assert again == first  # the original acceptance, with the original received_at
    assert queue_messages(services.sqs, queue_url) == []


def test_reusing_a_stored_feedback_id_for_other_feedback_is_a_conflict(services, rewarder, queue_url):
    body = submission(text="希望增加无糖饮品的选择")
    post(body)
    process(json.loads(queue_messages(services.sqs, queue_url)[0]["Body"]))
    services.sqs.purge_queue(QueueUrl=queue_url)

    status, answer = post({**body, "text": "另一条完全不同的反馈"})

    assert (status, answer["error"]["code"], answer["error"]["field"]) == (409, "IDEMPOTENCY_KEY_REUSED", "feedback_id")
    assert queue_messages(services.sqs, queue_url) == []


def test_feedback_naming_a_member_that_does_not_exist_is_refused_and_not_queued(services, queue_url):
    body = submission(member_id="mbr_01JD0000000000000000000099")
    status, answer = post(body)
    assert status == 404
    assert answer["error"]["code"] == "MEMBER_NOT_FOUND" and answer["error"]["field"] == "member_id"
    assert queue_messages(services.sqs, queue_url) == []
