"""What AWS runs around the functions: SQS and DynamoDB Streams event source mappings, EventBridge
schedules, and (local only) a tap that shows the events published on the bus."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from botocore.exceptions import ClientError

from infra.resources import EVENT_BUS_NAME, QUEUES, SCHEDULES, TABLE, QueueSpec, ScheduleSpec, StreamConsumerSpec
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
        self._sqs, self._runtime, self._spec, self._url, self._stopping = sqs, runtime, spec, queue_url, stop
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.batches = 0

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception as error:  # keep polling, as the event source mapping does
                print(f"[sqs {self._spec.logical_id}] poll failed: {error}", flush=True)
                self._stopping.wait(1)

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


def stream_record_matches(record: dict, entity: str, carries: str | None = "evt_type") -> bool:
    """The filter the stack puts on a stream consumer's mapping: INSERTs whose new image carries the
    attribute (an event riding on the item it reports; None: no such attribute), or is an item of the entity."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (
        (carries is not None and carries in image) or image.get("entity") == {"S": entity})


def stream_event(stream_arn: str, records: list[dict]) -> dict:
    """The batch a DynamoDB Streams event source mapping hands to Lambda, from GetRecords' records."""
    return {"Records": [
        {
            "eventID": r["eventID"],
            "eventName": r["eventName"],
            "eventVersion": r.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": r.get("awsRegion", REGION),
            "dynamodb": _as_json(r["dynamodb"]),
            **({"userIdentity": r["userIdentity"]} if "userIdentity" in r else {}),
            "eventSourceARN": stream_arn,
        }
        for r in records
    ]}


def _as_json(value):
    """boto3 parses times and binary values; Lambda's event has epoch seconds and base64 text."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_as_json(v) for v in value]
    return value


def retry_from(records: list[dict], result) -> int | None:
    """Where a stream batch resumes after the function answered `result`: None when it succeeded, else
    the index of the first record to send again. As Lambda does for streams, the lowest reported
    sequence number is the checkpoint, and an identifier not in the batch fails the whole batch."""
    failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
    indexes = [positions.get((f or {}).get("itemIdentifier")) for f in failures]
    return 0 if None in indexes else min(indexes)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    last_sequence: str | None = None  # to ask for a fresh iterator after the last record read
    exhausted: bool = False           # closed and read to its end
    pending: list[dict] = field(default_factory=list)  # the batch to (re)send before reading further
    attempts: int = 0
    retry_at: float = 0.0
    done_through: str | None = None   # every record up to this sequence number is handled (the checkpoint)


class StreamCheckpoint:
    """Where a stream consumer stands, kept in a file so a restarted local run resumes after the last
    handled record instead of reading the kept table's stream from its start again (an event source
    mapping keeps its position the same way). Tied to one stream: a table made anew starts over."""

    def __init__(self, path: Path):
        self.path = path

    def load(self, stream_arn: str) -> tuple[dict[str, str], set[str]]:
        """({shard id: last handled sequence number}, {shard ids read to their end})."""
        try:
            state = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}, set()
        if state.get("stream_arn") != stream_arn:
            return {}, set()
        return dict(state.get("shards") or {}), set(state.get("finished") or ())

    def save(self, stream_arn: str, shards: dict[str, str], finished: set[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps({"stream_arn": stream_arn, "shards": shards, "finished": sorted(finished)},
                                      indent=2))
        os.replace(partial, self.path)


class StreamConsumer(threading.Thread):
    """Reads the table's stream as a DynamoDB Streams event source mapping does: each shard from its
    start (TRIM_HORIZON), a parent before its children, records in order, filtered as the stack's
    mapping filters them, in batches of the spec's size. When the function reports failed records,
    the batch is sent again from the first of them (later records go again too) up to the spec's
    retries; then it is given up, noted in the log, where AWS describes it in the DLQ. An invocation
    that fails as a whole is retried whole (AWS would also bisect it). With a checkpoint, the position
    survives a restart: shards resume after their last handled record."""

    def __init__(self, streams, dynamodb, runtime: LambdaRuntime, spec: StreamConsumerSpec, stop: threading.Event,
                 table_name: str = TABLE.name, refresh_seconds: float = 1.0, idle_seconds: float = 0.25,
                 first_retry_seconds: float = 0.2, checkpoint: StreamCheckpoint | None = None):
        super().__init__(name=f"stream-{spec.logical_id}", daemon=True)
        self._streams, self._runtime, self._spec, self._stopping = streams, runtime, spec, stop
        self._refresh_seconds, self._idle_seconds = refresh_seconds, idle_seconds
        self._first_retry_seconds = first_retry_seconds  # doubling, at most 2 s
        self.stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._shards: dict[str, _Shard] = {}
        self._finished: set[str] = set()
        self._checkpoint = checkpoint
        self._resume_after: dict[str, str] = {}
        if checkpoint is not None:
            self._resume_after, self._finished = checkpoint.load(self.stream_arn)
        self._saved: tuple[dict[str, str], set[str]] = (dict(self._resume_after), set(self._finished))
        self._described_at = float("-inf")
        self.invocations = 0
        self.given_up: list[dict] = []  # records that went to the "DLQ"

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                delivered = self.poll_once()
            except Exception as error:  # keep polling, as the event source mapping does
                print(f"[stream {self._spec.logical_id}] poll failed: {error}", flush=True)
                self._stopping.wait(1)
                continue
            if not delivered:
                self._stopping.wait(self._idle_seconds)

    def poll_once(self) -> int:
        """One pass over the shards; returns how many records were handed to the function."""
        if time.monotonic() - self._described_at >= self._refresh_seconds:
            self._discover_shards()
            self._described_at = time.monotonic()
        delivered = 0
        for shard in list(self._shards.values()):
            if shard.parent_id in self._shards:  # the parent's records come first
                continue
            delivered += self._poll_shard(shard)
            if not shard.pending:
                shard.done_through = shard.last_sequence
            if shard.exhausted and not shard.pending:
                del self._shards[shard.shard_id]
                self._finished.add(shard.shard_id)
        self._save_checkpoint()
        return delivered

    def _save_checkpoint(self) -> None:
        if self._checkpoint is None:
            return
        positions = {**self._resume_after,
                     **{s.shard_id: s.done_through for s in self._shards.values() if s.done_through}}
        positions = {shard_id: sequence for shard_id, sequence in positions.items() if shard_id not in self._finished}
        if (positions, self._finished) != self._saved:
            self._checkpoint.save(self.stream_arn, positions, self._finished)
            self._saved = (positions, set(self._finished))

    def _discover_shards(self) -> None:
        start = None
        while True:
            page = self._streams.describe_stream(
                StreamArn=self.stream_arn, **({"ExclusiveStartShardId": start} if start else {}))["StreamDescription"]
            for shard in page.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in self._shards and shard_id not in self._finished:
                    resume_after = self._resume_after.get(shard_id)  # from the checkpoint of an earlier run
                    self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"), last_sequence=resume_after,
                                                    done_through=resume_after)
            start = page.get("LastEvaluatedShardId")
            if not start:
                return

    def _poll_shard(self, shard: _Shard) -> int:
        if shard.pending:
            if time.monotonic() < shard.retry_at:
                return 0
        else:
            shard.pending = [r for r in self._read(shard) if stream_record_matches(r, self._spec.entity, self._spec.carries)]
            shard.attempts = 0
            if not shard.pending:
                return 0
        batch = shard.pending
        resume_at = self._invoke(batch)
        if resume_at is None:
            shard.pending = []
        elif shard.attempts >= self._spec.max_retries:
            dropped = batch[resume_at:]
            self.given_up.extend(dropped)
            print(f"[stream {self._spec.logical_id}] {self._spec.function} gave up on {len(dropped)} record(s) "
                  f"after {shard.attempts} retries; on AWS they are described in {self._spec.dlq_name} "
                  f"(sequence numbers {dropped[0]['dynamodb']['SequenceNumber']}.."
                  f"{dropped[-1]['dynamodb']['SequenceNumber']})", flush=True)
            shard.pending = []
        else:
            shard.attempts += 1
            shard.pending = batch[resume_at:]
            shard.retry_at = time.monotonic() + min(self._first_retry_seconds * 2 ** (shard.attempts - 1), 2.0)
        return len(batch)

    def _read(self, shard: _Shard) -> list[dict]:
        if shard.exhausted:
            return []
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=self._spec.batch_size)
        except self._streams.exceptions.ExpiredIteratorException:
            shard.iterator = None  # a new one next time, after the last record read
            return []
        records = response.get("Records", [])
        if records:
            shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
        shard.iterator = response.get("NextShardIterator")
        shard.exhausted = shard.iterator is None
        return records

    def _iterator(self, shard: _Shard) -> str:
        trim_horizon = {"ShardIteratorType": "TRIM_HORIZON"}
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_sequence}
                    if shard.last_sequence else trim_horizon)
        try:
            return self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard.shard_id, **position)["ShardIterator"]
        except ClientError as error:
            # A checkpoint older than the stream's 24 hours: what followed it starts at the trim horizon.
            if error.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                raise
            return self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard.shard_id, **trim_horizon)["ShardIterator"]

    def _invoke(self, batch: list[dict]) -> int | None:
        self.invocations += 1
        try:
            result = self._runtime.invoke(self._spec.function, stream_event(self.stream_arn, batch))
        except FunctionError as error:
            print(f"[stream {self._spec.logical_id}] {self._spec.function} failed the whole batch: {error}", flush=True)
            return 0
        resume_at = retry_from(batch, result)
        if resume_at is not None:
            print(f"[stream {self._spec.logical_id}] {self._spec.function} reported failed records; "
                  f"retrying {len(batch) - resume_at} of {len(batch)}", flush=True)
        return resume_at


class Scheduler(threading.Thread):
    """Fires each schedule's function as the stack's EventBridge rules do: every N minutes from the start,
    or daily at its time (e.g. the expiry job at 00:05 in Shanghai, as long as the run is up then; a day
    the run was down is caught up by the job itself, from its watermark)."""

    def __init__(self, runtime: LambdaRuntime, stop: threading.Event, schedules: tuple[ScheduleSpec, ...] = SCHEDULES,
                 now=lambda: datetime.now(timezone.utc)):
        super().__init__(name="scheduler", daemon=True)
        self._runtime, self._stopping, self._schedules, self._now = runtime, stop, schedules, now
        started = now()
        self.next_runs = {s.logical_id: s.next_run(started) for s in schedules}

    def run(self) -> None:
        while not self._stopping.wait(1):
            self.poll_once()

    def poll_once(self) -> list[str]:
        """Fire every schedule whose time has come; returns their logical ids."""
        now, fired = self._now(), []
        for spec in self._schedules:
            if now >= self.next_runs[spec.logical_id]:
                self.next_runs[spec.logical_id] = spec.next_run(now)
                self.fire(spec)
                fired.append(spec.logical_id)
        return fired

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
        self._sqs, self._stopping = sqs, stop
        self.recent: deque = deque(maxlen=keep)
        self._url = sqs.create_queue(QueueName=self.QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="local-event-tap", EventBusName=EVENT_BUS_NAME,
                        EventPattern=json.dumps({"source": [{"prefix": "loyalty"}]}))
        events.put_targets(Rule="local-event-tap", EventBusName=EVENT_BUS_NAME, Targets=[{"Id": "tap", "Arn": arn}])

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10,
                                                     WaitTimeSeconds=1).get("Messages", [])
            except Exception:
                self._stopping.wait(1)
                continue
            for message in messages:
                event = json.loads(message["Body"])
                self.recent.append(event)
                print(f"[bus] {event.get('detail-type')} {json.dumps(event.get('detail'), ensure_ascii=False)[:160]}",
                      flush=True)
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


def queue_specs() -> tuple[QueueSpec, ...]:
    return QUEUES
