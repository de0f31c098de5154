"""What AWS runs around the functions: SQS event source mappings, EventBridge schedules, and (local
only) a tap that shows the events published on the bus."""
from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import deque
from datetime import datetime, timezone

from infra.resources import EVENT_BUS_NAME, QUEUES, SCHEDULES, QueueSpec, ScheduleSpec
from local.lambdas import FunctionError, LambdaRuntime

REGION = "us-east-1"
ACCOUNT = "000000000000"


def sqs_event(queue_arn: str, messages: list[dict]) -> dict:
    """The batch an SQS event source mapping hands to Lambda."""
    return {"Records": [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]}


def scheduled_event(rule_name: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


class QueueConsumer(threading.Thread):
    """Long-polls a queue, invokes its consumer with batches, deletes what succeeded. Failed records
    stay and come back after the visibility timeout; the queue's redrive policy moves them to the DLQ."""

    def __init__(self, sqs, runtime: LambdaRuntime, spec: QueueSpec, queue_url: str, stop: threading.Event):
        super().__init__(name=f"sqs-{spec.logical_id}", daemon=True)
        self._sqs, self._runtime, self._spec, self._url, self._stop = sqs, runtime, spec, queue_url, stop
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.batches = 0

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception as error:  # keep polling, as the event source mapping does
                print(f"[sqs {self._spec.logical_id}] poll failed: {error}", flush=True)
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=self._spec.batch_size, WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(self._arn, messages)
        try:
            result = self._runtime.invoke(self._spec.consumer, event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except FunctionError as error:
            print(f"[sqs {self._spec.logical_id}] consumer failed the whole batch: {error}", flush=True)
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        self.batches += 1
        return len(messages)


class Scheduler(threading.Thread):
    """Fires each schedule's function at its rate, as the stack's EventBridge rules do."""

    def __init__(self, runtime: LambdaRuntime, stop: threading.Event):
        super().__init__(name="scheduler", daemon=True)
        self._runtime, self._stop = runtime, stop
        self._next = {s.logical_id: s.rate_minutes * 60 for s in SCHEDULES}

    def run(self) -> None:
        elapsed = 0
        while not self._stop.wait(1):
            elapsed += 1
            for spec in SCHEDULES:
                if elapsed % (spec.rate_minutes * 60) == 0:
                    self.fire(spec)

    def fire(self, spec: ScheduleSpec) -> dict:
        try:
            result = self._runtime.invoke(spec.function, scheduled_event(f"loyalty-{spec.logical_id}"))
            print(f"[schedule {spec.logical_id}] {spec.function} -> {json.dumps(result, default=str)[:200]}", flush=True)
            return {"function": spec.function, "result": result}
        except FunctionError as error:
            print(f"[schedule {spec.logical_id}] {spec.function} failed: {error}", flush=True)
            return {"function": spec.function, "error": str(error)}


class EventTap(threading.Thread):
    """Local only: a rule sends every event on the bus to a queue, so the run can show them."""

    QUEUE = "loyalty-local-event-tap"

    def __init__(self, events, sqs, stop: threading.Event, keep: int = 500):
        super().__init__(name="event-tap", daemon=True)
        self._sqs, self._stop = sqs, stop
        self.recent: deque = deque(maxlen=keep)
        self._url = sqs.create_queue(QueueName=self.QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="local-event-tap", EventBusName=EVENT_BUS_NAME,
                        EventPattern=json.dumps({"source": [{"prefix": "loyalty"}]}))
        events.put_targets(Rule="local-event-tap", EventBusName=EVENT_BUS_NAME, Targets=[{"Id": "tap", "Arn": arn}])

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10,
                                                     WaitTimeSeconds=1).get("Messages", [])
            except Exception:
                self._stop.wait(1)
                continue
            for message in messages:
                event = json.loads(message["Body"])
                self.recent.append(event)
                print(f"[bus] {event.get('detail-type')} {json.dumps(event.get('detail'), ensure_ascii=False)[:160]}",
                      flush=True)
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


def queue_specs() -> tuple[QueueSpec, ...]:
    return QUEUES
