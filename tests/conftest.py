"""Shared fixtures: environment, moto-backed AWS, services wired with test adapters, API events."""
from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from loyalty.platform import environment as env  # noqa: E402

TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    **env.function_environment(table_name="loyalty-main", event_bus_name="loyalty-bus", default_country_code="86",
                               queue_urls={}, sends_to=()),
    **env.powertools_environment(service_name="loyalty-tests", metrics_namespace="LoyaltyTests", tracing=False),
}
os.environ.update(TEST_ENV)
for _name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
    os.environ.pop(_name, None)


class RecordingPublisher:
    """What would reach the bus: events published directly, plus the events committed to the table on
    the items that carry them, which the relay publishes (read back from the table, oldest first)."""

    def __init__(self, table=None):
        self.direct = []
        self.table = table

    def publish(self, events) -> None:
        self.direct.extend(events)

    @property
    def events(self) -> list:
        return sorted(self.direct + self.outbox(), key=lambda e: e.event_id)

    def outbox(self) -> list:
        if self.table is None:
            return []
        from boto3.dynamodb.conditions import Attr

        from loyalty.platform.dynamo import plain
        from loyalty.platform.outbox import EVENT_TYPE_ATTRIBUTE, OUTBOX_ENTITY, event_from_item

        items, start = [], None
        carrying = Attr(EVENT_TYPE_ATTRIBUTE).exists() | Attr("entity").eq(OUTBOX_ENTITY)
        while True:
            page = self.table.scan(FilterExpression=carrying,
                                   **({"ExclusiveStartKey": start} if start else {}))
            items += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return [event_from_item(plain(item)) for item in items]

    def types(self) -> list[str]:
        return [e.detail_type for e in self.events]


class FixedClock:
    def __init__(self, now: datetime | None = None):
        self.current = now or datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "test-request"


from local.demo import DEMO_STORES, demo_context  # noqa: E402

POS_SH = demo_context("pos-sh-jingan")
POS_HZ = demo_context("pos-hz-xihu")
WEBSHOP = demo_context("webshop")
BACKOFFICE = demo_context("backoffice")


def api_event(method: str, resource: str, *, path_params: dict | None = None, body: Any = None,
              headers: dict | None = None, query: dict | None = None, client: dict | None = None) -> dict:
    """An API Gateway REST proxy event as the authorizer-fronted API delivers it."""
    path = resource
    for key, value in (path_params or {}).items():
        path = path.replace("{" + key + "}", str(value))
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params,
        "requestContext": {"requestId": "req-test", "stage": "v1", "authorizer": client if client is not None else POS_SH},
        "body": body if body is None or isinstance(body, str) else json.dumps(body, default=str),
        "isBase64Encoded": False,
    }


def response_json(response: dict) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@pytest.fixture
def aws():
    """moto-backed AWS with the table, bus and queues created from infra/resources.py."""
    import boto3
    from moto import mock_aws

    from local.provision import create_bus, create_queues, create_table

    with mock_aws():
        create_table(boto3.client("dynamodb"), stream=False)  # the relay's tests build stream records themselves
        create_bus(boto3.client("events"))
        queue_urls = create_queues(boto3.client("sqs"))
        yield {"queue_urls": queue_urls}


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def publisher():
    return RecordingPublisher()


class ChosenIds:
    """The id generator with the member id and card number a test chooses; the rest stay random."""

    def __init__(self):
        from loyalty.kernel.ids import RandomIds

        self._random = RandomIds()
        self.member_id: str | None = None
        self.card_number: str | None = None

    def new_id(self, prefix: str) -> str:
        return self.member_id if prefix == "mbr" and self.member_id else self._random.new_id(prefix)

    def new_card_number(self) -> str:
        return self.card_number or self._random.new_card_number()

    def new_referral_code(self) -> str:
        return self._random.new_referral_code()


@pytest.fixture
def chosen_ids():
    return ChosenIds()


@pytest.fixture
def services(aws, clock, publisher, chosen_ids):
    """Services over moto's table with an in-memory publisher and a fixed clock, installed for handlers."""
    import boto3

    from loyalty import wiring
    table = boto3.resource("dynamodb").Table(TEST_ENV[env.TABLE_NAME])
    publisher.table = table
    svc = wiring.Services(table=table, publisher=publisher, clock=clock, ids=chosen_ids, sqs=boto3.client("sqs"),
                          feedback_queue_url=aws["queue_urls"].get("FeedbackQueue"),
                          points_expiry_queue_url=aws["queue_urls"].get("ExpiryQueue"))
    for store in DEMO_STORES:
        svc.stores.put_store(store)
    wiring.use(svc)
    yield svc
    wiring.use(None)


class _CurrentStdout:
    """Writes to whatever sys.stdout is at the moment, so capsys sees it."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def log_output(capsys):
    """What the functions' Powertools logger writes to stdout, read through capsys.

    The logger's handler keeps the stdout object it saw at import time (a capture pytest may have closed
    since), so for the test it writes to the current sys.stdout instead; the stream is swapped directly
    because setStream would flush the old one."""
    service_logger = logging.getLogger(os.environ[env.SERVICE_NAME])
    handlers = [h for h in service_logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the Powertools logger has no stream handler to capture"
    previous = [h.stream for h in handlers]
    for handler in handlers:
        handler.stream = _CurrentStdout()
    capsys.readouterr()
    yield lambda: capsys.readouterr().out
    for handler, stream in zip(handlers, previous):
        handler.stream = stream


@pytest.fixture
def ctx():
    return LambdaContext()


def enroll_as(services, chosen_ids: ChosenIds, member_id: str, phone: str) -> str:
    """Enroll a member under the id a sample event or a test names (the phone makes it unique)."""
    from loyalty.kernel.identity import ClientIdentity
    from loyalty.members.domain import EnrollmentRequest

    chosen_ids.member_id = member_id
    try:
        request = EnrollmentRequest.model_validate({
            "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
        return services.member_service.enroll(request, ClientIdentity.from_context(BACKOFFICE), None).member.member_id
    finally:
        chosen_ids.member_id = None
