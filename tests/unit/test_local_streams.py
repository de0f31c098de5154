"""The local run's stand-in for a DynamoDB Streams event source mapping (local/pollers.py): the event it
builds, its filter, where it resumes after reported failures, and how it walks shards, over a fake stream."""
from __future__ import annotations

import base64
import threading
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from infra.resources import STREAM_CONSUMERS
from local.lambdas import FunctionError
from local.pollers import StreamConsumer, retry_from, stream_event, stream_record_matches

STREAM_ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/loyalty-main/stream/2026-11-18T02:00:00.000"
SPEC = replace(STREAM_CONSUMERS[0], max_retries=3, batch_size=50)


def record(sequence: int, entity: str = "outbox", event_name: str = "INSERT") -> dict:
    """A record as boto3's GetRecords returns it: times parsed, binary values as bytes."""
    keys = {"PK": {"S": f"OUTBOX#evt_{sequence:04d}"}, "SK": {"S": "EVENT"}}
    dynamodb = {"ApproximateCreationDateTime": datetime(2026, 11, 18, 2, 0, sequence % 60, tzinfo=timezone.utc),
                "Keys": keys, "SequenceNumber": f"{sequence:021d}", "SizeBytes": 120, "StreamViewType": "NEW_IMAGE"}
    if event_name != "REMOVE":
        dynamodb["NewImage"] = {**keys, "entity": {"S": entity}, "event_id": {"S": f"evt_{sequence:04d}"},
                                "checksum": {"B": b"\x00\x01"}, "expires_at": {"N": "1795053600"}}
    return {"eventID": f"e{sequence}", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "ddblocal", "dynamodb": dynamodb}


def sequences(event: dict) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]


def failures(*sequence_numbers: int) -> dict:
    return {"batchItemFailures": [{"itemIdentifier": f"{n:021d}"} for n in sequence_numbers]}


# -- pure parts ---------------------------------------------------------------------------------------

def test_the_event_has_lambdas_shape_with_epoch_seconds_and_base64_binary():
    event = stream_event(STREAM_ARN, [record(7)])
    [built] = event["Records"]
    assert built["eventID"] == "e7" and built["eventName"] == "INSERT" and built["eventVersion"] == "1.1"
    assert built["eventSource"] == "aws:dynamodb" and built["awsRegion"] == "ddblocal"
    assert built["eventSourceARN"] == STREAM_ARN
    dynamodb = built["dynamodb"]
    assert dynamodb["ApproximateCreationDateTime"] == int(datetime(2026, 11, 18, 2, 0, 7, tzinfo=timezone.utc).timestamp())
    assert dynamodb["NewImage"]["checksum"] == {"B": base64.b64encode(b"\x00\x01").decode()}
    assert dynamodb["Keys"] == {"PK": {"S": "OUTBOX#evt_0007"}, "SK": {"S": "EVENT"}}
    assert (dynamodb["SequenceNumber"], dynamodb["SizeBytes"], dynamodb["StreamViewType"]) == (f"{7:021d}", 120, "NEW_IMAGE")


def test_the_filter_passes_only_inserts_of_the_entity():
    assert stream_record_matches(record(1), "outbox")
    assert not stream_record_matches(record(2, entity="member"), "outbox")
    assert not stream_record_matches(record(3, event_name="MODIFY"), "outbox")
    assert not stream_record_matches(record(4, event_name="REMOVE"), "outbox")


@pytest.mark.parametrize("result, expected", [
    ({"batchItemFailures": []}, None),
    (None, None),
    ({}, None),
    (failures(3), 1),
    (failures(4, 3), 1),           # the lowest reported sequence number is the checkpoint
    (failures(99), 0),             # an identifier not in the batch fails all of it
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
])
def test_where_a_batch_resumes_after_the_functions_answer(result, expected):
    assert retry_from([record(2), record(3), record(4)], result) == expected


# -- the consumer over a fake stream ---------------------------------------------------------------------

class FakeStreams:
    """DescribeStream (two shards a page), GetShardIterator and GetRecords over in-memory shards."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client's `exceptions`
        class ExpiredIteratorException(Exception):
            pass

    def __init__(self):
        self.shards: dict[str, dict] = {}
        self.reads: list[str] = []  # shard id of each GetRecords

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = {"parent": parent, "records": [], "closed": False}

    def append(self, shard_id: str, *records: dict) -> None:
        self.shards[shard_id]["records"].extend(records)

    def close(self, shard_id: str) -> None:
        self.shards[shard_id]["closed"] = True

    def describe_stream(self, StreamArn, ExclusiveStartShardId=None):  # noqa: N803 - boto3's names
        ids = list(self.shards)
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = ids[start:start + 2]
        description = {"StreamArn": StreamArn, "Shards": [
            {"ShardId": i, **({"ParentShardId": self.shards[i]["parent"]} if self.shards[i]["parent"] else {})}
            for i in page]}
        if start + 2 < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):  # noqa: N803
        position = 0
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            numbers = [r["dynamodb"]["SequenceNumber"] for r in self.shards[ShardId]["records"]]
            position = numbers.index(SequenceNumber) + 1
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator, Limit):  # noqa: N803
        shard_id, position = ShardIterator.rsplit("|", 1)
        self.reads.append(shard_id)
        shard = self.shards[shard_id]
        records = shard["records"][int(position):int(position) + Limit]
        following = int(position) + len(records)
        response = {"Records": records}
        if not (shard["closed"] and following >= len(shard["records"])):
            response["NextShardIterator"] = f"{shard_id}|{following}"
        return response


class FakeDynamoDB:
    def describe_table(self, TableName):  # noqa: N803
        return {"Table": {"TableName": TableName, "LatestStreamArn": STREAM_ARN}}


class FakeRuntime:
    """Records each invocation; answers from a script (a result, or an exception to raise), then success."""

    def __init__(self, *answers):
        self.calls: list[tuple[str, dict]] = []
        self.answers = list(answers)

    def invoke(self, function_name: str, event: dict):
        self.calls.append((function_name, event))
        answer = self.answers.pop(0) if self.answers else {"batchItemFailures": []}
        if isinstance(answer, Exception):
            raise answer
        return answer

    def batches(self) -> list[list[int]]:
        return [sequences(event) for _, event in self.calls]


@pytest.fixture
def stream():
    fake = FakeStreams()
    fake.add_shard("shard-1")
    return fake


def consumer(stream: FakeStreams, runtime: FakeRuntime, spec=SPEC) -> StreamConsumer:
    return StreamConsumer(stream, FakeDynamoDB(), runtime, spec, threading.Event(), refresh_seconds=0,
                          first_retry_seconds=0)


def drain(poller: StreamConsumer, passes: int = 30) -> None:
    for _ in range(passes):
        poller.poll_once()


def test_only_outbox_inserts_reach_the_function_in_order_and_once(stream):
    stream.append("shard-1", record(1), record(2, entity="member"), record(3, event_name="REMOVE"), record(4))
    runtime = FakeRuntime()
    poller = consumer(stream, runtime)
    drain(poller)
    stream.append("shard-1", record(5), record(6, event_name="MODIFY"))
    drain(poller)
    assert runtime.batches() == [[1, 4], [5]]
    assert {name for name, _ in runtime.calls} == {"events_relay"}
    assert all(r["eventSourceARN"] == STREAM_ARN for _, e in runtime.calls for r in e["Records"])


def test_batches_hold_at_most_the_specs_batch_size(stream):
    stream.append("shard-1", *[record(n) for n in range(1, 8)])
    runtime = FakeRuntime()
    drain(consumer(stream, runtime, replace(SPEC, batch_size=3)))
    assert runtime.batches() == [[1, 2, 3], [4, 5, 6], [7]]


def test_reported_failures_are_sent_again_from_the_first_failed_record(stream):
    stream.append("shard-1", record(1), record(2), record(3))
    runtime = FakeRuntime(failures(3, 2))
    poller = consumer(stream, runtime)
    drain(poller)
    assert runtime.batches() == [[1, 2, 3], [2, 3]]
    assert poller.given_up == []


def test_a_failed_invocation_is_retried_whole(stream):
    stream.append("shard-1", record(1), record(2))
    runtime = FakeRuntime(FunctionError("Timeout", "events_relay ran longer than 30s"))
    drain(consumer(stream, runtime))
    assert runtime.batches() == [[1, 2], [1, 2]]


def test_after_the_retries_the_records_are_given_up_and_the_shard_moves_on(stream):
    stream.append("shard-1", record(1), record(2))
    runtime = FakeRuntime(*[failures(2)] * (1 + SPEC.max_retries))
    poller = consumer(stream, runtime)
    drain(poller)
    stream.append("shard-1", record(3))
    drain(poller)
    assert runtime.batches() == [[1, 2]] + [[2]] * SPEC.max_retries + [[3]]
    assert [r["dynamodb"]["SequenceNumber"] for r in poller.given_up] == [f"{2:021d}"]


def test_a_child_shard_waits_for_its_parent_and_a_closed_shard_is_dropped_once_read(stream):
    stream.add_shard("shard-2", parent="shard-1")
    stream.add_shard("shard-3")  # on the second page of DescribeStream
    stream.append("shard-2", record(20))
    stream.append("shard-1", record(10), record(11))
    stream.append("shard-3", record(30))
    runtime = FakeRuntime(failures(11))  # holds the parent on its last record for one retry
    poller = consumer(stream, runtime)
    poller.poll_once()
    assert runtime.batches() == [[10, 11], [30]]
    stream.close("shard-1")
    drain(poller)
    assert runtime.batches() == [[10, 11], [30], [11], [20]]
    reads_of_the_parent = stream.reads.count("shard-1")
    drain(poller)
    assert stream.reads.count("shard-1") == reads_of_the_parent, "a closed shard read to its end is let go"
    assert stream.reads.count("shard-3") > 1, "open shards are still followed"
