"""What the local run keeps across restarts: provisioning over what exists, the stream consumer's
checkpoint, and `make reset` (local/reset.py)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from infra.resources import EVENT_BUS_NAME, TABLE
from local import reset
from local.embedded import free_port
from local.endpoints import DATA_DIR_VARIABLE, read_endpoints, running_platform
from local.pollers import StreamCheckpoint, StreamConsumer
from local.provision import ExistingTableMismatch, create_bus, create_queues, create_table
from tests.unit.test_local_streams import SPEC, STREAM_ARN, FakeDynamoDB, FakeRuntime, FakeStreams, failures, record

# -- provisioning over what a kept run already has ------------------------------------------------------


def test_provisioning_twice_keeps_the_table_queues_and_bus(aws):
    dynamodb, sqs, events = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("events")
    dynamodb.put_item(TableName=TABLE.name, Item={"PK": {"S": "KEEP"}, "SK": {"S": "ME"}})
    create_table(dynamodb, stream=False)
    assert create_queues(sqs) == aws["queue_urls"]
    assert create_bus(events) == events.describe_event_bus(Name=EVENT_BUS_NAME)["Arn"]
    assert dynamodb.get_item(TableName=TABLE.name, Key={"PK": {"S": "KEEP"}, "SK": {"S": "ME"}}).get("Item")


def test_a_kept_queue_with_other_attributes_takes_the_specs(aws):
    sqs = boto3.client("sqs")
    url = aws["queue_urls"]["FeedbackQueue"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    assert create_queues(sqs)["FeedbackQueue"] == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == \
        {"VisibilityTimeout": "180"}


def test_a_kept_table_without_the_stream_is_refused_with_the_way_out(aws):
    with pytest.raises(ExistingTableMismatch, match="make reset") as refused:
        create_table(boto3.client("dynamodb"), stream=True)  # the fixture's table has no stream
    assert "stream" in str(refused.value)


def test_a_kept_table_with_other_keys_is_refused():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName=TABLE.name, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        with pytest.raises(ExistingTableMismatch, match="make reset") as refused:
            create_table(dynamodb, stream=False)
    assert "GSI1" in str(refused.value) and "('id',)" in str(refused.value)


def test_a_kept_table_without_a_newer_index_gets_it_and_keeps_its_items():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        older = [index for index in TABLE.indexes if index.name not in ("GSI3", "GSI4")]
        attributes = {"PK", "SK", *(a for i in older for a in (i.partition_key, i.sort_key))}
        dynamodb.create_table(
            TableName=TABLE.name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": i.name, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": i.partition_key, "KeyType": "HASH"},
                                                   {"AttributeName": i.sort_key, "KeyType": "RANGE"}]}
                                    for i in older])
        dynamodb.put_item(TableName=TABLE.name, Item={"PK": {"S": "KEEP"}, "SK": {"S": "ME"}})
        create_table(dynamodb, stream=False)
        indexes = {i["IndexName"]: i["Projection"]["ProjectionType"]
                   for i in dynamodb.describe_table(TableName=TABLE.name)["Table"]["GlobalSecondaryIndexes"]}
        assert indexes == {"GSI1": "ALL", "GSI2": "ALL", "GSI3": "KEYS_ONLY", "GSI4": "KEYS_ONLY"}
        assert dynamodb.get_item(TableName=TABLE.name, Key={"PK": {"S": "KEEP"}, "SK": {"S": "ME"}}).get("Item")


# -- the stream consumer's checkpoint -----------------------------------------------------------------------


def consumer(stream, runtime, checkpoint) -> StreamConsumer:
    return StreamConsumer(stream, FakeDynamoDB(), runtime, SPEC, threading.Event(), refresh_seconds=0,
                          first_retry_seconds=0, checkpoint=checkpoint)


def drain(poller: StreamConsumer, passes: int = 20) -> None:
    for _ in range(passes):
        poller.poll_once()


def test_a_restarted_consumer_resumes_after_the_last_handled_record(tmp_path):
    stream, checkpoint = FakeStreams(), StreamCheckpoint(tmp_path / "streams" / "relay.json")
    stream.add_shard("shard-1")
    stream.append("shard-1", record(1), record(2, entity="member"), record(3))
    first = FakeRuntime()
    drain(consumer(stream, first, checkpoint))
    assert first.batches() == [[1, 3]]
    assert json.loads(checkpoint.path.read_text())["shards"] == {"shard-1": f"{3:021d}"}

    stream.append("shard-1", record(4))
    after_restart = FakeRuntime()
    drain(consumer(stream, after_restart, checkpoint))
    assert after_restart.batches() == [[4]], "records handled before the restart are not sent again"


def test_a_batch_still_being_retried_at_the_stop_is_sent_again_after_the_restart(tmp_path):
    stream, checkpoint = FakeStreams(), StreamCheckpoint(tmp_path / "relay.json")
    stream.add_shard("shard-1")
    stream.append("shard-1", record(1))
    drain(consumer(stream, FakeRuntime(), checkpoint))
    stream.append("shard-1", record(2), record(3))
    failing = FakeRuntime(failures(3))
    consumer(stream, failing, checkpoint).poll_once()  # stopped before the retry
    assert failing.batches() == [[2, 3]]
    after_restart = FakeRuntime()
    drain(consumer(stream, after_restart, checkpoint))
    assert after_restart.batches() == [[2, 3]]


def test_a_shard_read_to_its_end_is_not_read_again_and_another_stream_starts_over(tmp_path):
    stream, checkpoint = FakeStreams(), StreamCheckpoint(tmp_path / "relay.json")
    stream.add_shard("shard-1")
    stream.append("shard-1", record(1))
    stream.close("shard-1")
    stream.add_shard("shard-2", parent="shard-1")
    stream.append("shard-2", record(2))
    drain(consumer(stream, FakeRuntime(), checkpoint))
    assert json.loads(checkpoint.path.read_text())["finished"] == ["shard-1"]

    reads = len(stream.reads)
    after_restart = FakeRuntime()
    drain(consumer(stream, after_restart, checkpoint))
    assert after_restart.batches() == []
    assert "shard-1" not in stream.reads[reads:]

    state = json.loads(checkpoint.path.read_text())
    checkpoint.path.write_text(json.dumps({**state, "stream_arn": STREAM_ARN + "-of-an-older-table"}))
    new_table = FakeRuntime()
    drain(consumer(stream, new_table, checkpoint))
    assert new_table.batches() == [[1], [2]]


# -- make reset ----------------------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "local-data"
    for name in ("dynamodb", "streams", "logs", "exports/exports/mbr_x"):
        (folder / name).mkdir(parents=True)
    (folder / "exports/exports/mbr_x/exp_y.json").write_text("{}")
    (folder / "dynamodb" / "shared-local-instance.db").write_bytes(b"tables")
    (folder / "streams" / "EventsRelayStream.json").write_text("{}")
    (folder / "logs" / "moto.log").write_text("log")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(folder))
    return folder


@pytest.fixture
def health_server():
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'{"status":"ok"}'
            self.send_response(200 if self.path == "/_local/health" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_reset_removes_the_data_and_a_stale_endpoints_file_and_keeps_the_logs(data_dir, capsys):
    (data_dir / "endpoints.json").write_text(json.dumps({"base_url": f"http://127.0.0.1:{free_port()}"}))
    assert running_platform(data_dir) is None, "nothing answers: a run that was killed"
    assert reset.main([]) == 0
    assert sorted(p.name for p in data_dir.iterdir()) == ["logs"]
    assert (data_dir / "logs" / "moto.log").read_text() == "log"
    assert "starts empty" in capsys.readouterr().out
    assert reset.main([]) == 0, "resetting an empty folder is fine"


def test_reset_refuses_while_a_run_serves_from_the_folder(data_dir, health_server, capsys):
    (data_dir / "endpoints.json").write_text(json.dumps({"base_url": health_server}))
    assert read_endpoints(data_dir)["base_url"] == health_server
    assert reset.main([]) == 1
    assert health_server in capsys.readouterr().out
    assert (data_dir / "dynamodb" / "shared-local-instance.db").read_bytes() == b"tables"
    assert (data_dir / "endpoints.json").exists()
