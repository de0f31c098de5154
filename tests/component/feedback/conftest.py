"""Fixtures for the feedback component tests: message and event builders, a fake rewarder, and a
stand-in for Lambda's SQS event source mapping that drives the processor from the moto queue."""
from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from tests.conftest import BACKOFFICE, LambdaContext, api_event, response_json

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:loyalty-feedback"
_ids = itertools.count(1)


def new_feedback_id(prefix: str = "fb-sh") -> str:
    return f"{prefix}-{next(_ids):06d}-{uuid.uuid4().hex[:6]}"


def submission(**overrides) -> dict:
    """An intake body: a complaint at the till of 静安嘉里店."""
    body = {
        "feedback_id": new_feedback_id(),
        "store_id": "SH-JINGAN",
        "channel": "pos",
        "kind": "complaint",
        "rating": 2,
        "text": "收银员态度冷漠，排队二十分钟没人管。",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def message(received_at: str = "2026-11-18T02:00:00Z", client_id: str = "pos-sh-jingan", **overrides) -> dict:
    """A queue message as the intake writes it."""
    return {**submission(**overrides), "client_id": client_id, "received_at": received_at}


def sqs_record(body: str | dict, *, message_id: str | None = None, receive_count: int = 1,
               receipt_handle: str | None = None) -> dict:
    body = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    message_id = message_id or str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle or f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1795485600000",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795485600001"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def sqs_event(*records: dict) -> dict:
    return {"Records": list(records)}


def process(*bodies, ctx=None) -> tuple[dict, list[dict]]:
    """Run the processor over one batch; return its response and the records it was given."""
    import feedback_processor

    records = [b if isinstance(b, dict) and "messageId" in b else sqs_record(b) for b in bodies]
    return feedback_processor.handler(sqs_event(*records), ctx or LambdaContext()), records


def failed_ids(response: dict) -> list[str]:
    return [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]


@dataclass
class QueuePump:
    """Does what Lambda's event source mapping does: receive up to batch_size messages, invoke the
    function, delete what succeeded. A failed message becomes visible again at once here (in AWS,
    when its visibility timeout ends), so the redrive policy is exercised without waiting."""

    sqs: object
    queue_url: str
    batch_size: int = 10
    invocations: int = 0
    failures: list[str] = field(default_factory=list)

    def poll(self) -> int:
        import feedback_processor

        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
                                            AttributeNames=["All"]).get("Messages", [])
        if not received:
            return 0
        records = [sqs_record(m["Body"], message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"],
                              receive_count=int(m["Attributes"]["ApproximateReceiveCount"])) for m in received]
        response = feedback_processor.handler(sqs_event(*records), LambdaContext())
        self.invocations += 1
        failed = set(failed_ids(response))
        self.failures.extend(failed)
        for m in received:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"],
                                                   VisibilityTimeout=0)
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(received)

    def drain(self, max_polls: int = 1000) -> None:
        for _ in range(max_polls):
            if not self.poll():
                return
        raise AssertionError("the queue did not drain")


class FakeRewarder:
    """Records reward calls; `fail_next` makes the next calls raise as a busy ledger would."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.fail_next = 0

    def reward(self, member_id, feedback_id, store_id, occurred_at) -> str:
        self.calls.append((member_id, feedback_id, store_id, occurred_at))
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("points ledger unavailable")
        return "rewarded"


@pytest.fixture
def rewarder(services):
    fake = FakeRewarder()
    services.__dict__["feedback_rewarder"] = fake  # before anything builds the processor
    return fake


@pytest.fixture
def queue_url(aws):
    return aws["queue_urls"]["FeedbackQueue"]


@pytest.fixture
def dlq_url(aws):
    return aws["queue_urls"]["FeedbackQueueDLQ"]


@pytest.fixture
def pump(services, queue_url):
    return QueuePump(services.sqs, queue_url)


def queue_messages(sqs, url: str, max_polls: int = 20) -> list[dict]:
    """Everything currently visible on a queue (received, then made visible again)."""
    found, seen = [], set()
    for _ in range(max_polls):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                    MessageAttributeNames=["All"], VisibilityTimeout=30).get("Messages", [])
        if not batch:
            break
        for m in batch:
            if m["MessageId"] not in seen:
                seen.add(m["MessageId"])
                found.append(m)
    for m in found:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return found


def staff(method: str, resource: str, *, path_params=None, body=None, query=None, client=BACKOFFICE):
    import feedback_staff

    response = feedback_staff.handler(
        api_event(method, resource, path_params=path_params, body=body, query=query, client=client),
        LambdaContext())
    return response["statusCode"], response_json(response)


def stored_feedback(services, store_id: str = "SH-JINGAN") -> list:
    """Every item of a store, read through the store index."""
    return list(services.feedback_repository.received_between(
        store_id, datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)))


def history_items(services, feedback_id: str) -> list[dict]:
    from boto3.dynamodb.conditions import Key

    return services.table.query(KeyConditionExpression=Key("PK").eq(f"FEEDBACK#{feedback_id}")
                                & Key("SK").begins_with("HISTORY#"))["Items"]
