"""Member rights: a member's data export is one JSON document with every capability's part, written by
the queue worker page by page (bounded memory at 10,000 ledger entries), linked while it lasts, and gone
with the member's erasure."""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse

import pytest

import members
import members_export
from loyalty.kernel.identity import ClientIdentity
from loyalty.members.storage import FolderExportStore, SqsExportQueue
from tests.component.feedback.conftest import sqs_event, sqs_record
from tests.component.test_member_erasure import a_year_of_history, enroll, erase
from tests.conftest import BACKOFFICE, POS_SH, WEBSHOP, LambdaContext, api_event, demo_context, response_json

APP = demo_context("member-app")


@pytest.fixture
def exports(services, aws, tmp_path):
    """Exports into a folder, as the local run keeps them; the queue is moto's."""
    services.__dict__["export_store"] = FolderExportStore(tmp_path / "exports")
    services.__dict__["export_settings"] = object()  # erasure then counts exports among what it ends
    services.__dict__["export_queue"] = SqsExportQueue(services.sqs, aws["queue_urls"]["ExportQueue"])
    return aws["queue_urls"]["ExportQueue"]


def start(ctx, member_id: str, client=BACKOFFICE) -> tuple[int, dict]:
    response = members.handler(api_event("POST", "/v1/members/{member_id}/exports",
                                         path_params={"member_id": member_id}, client=client), ctx)
    return response["statusCode"], response_json(response)


def status_of(ctx, member_id: str, export_id: str, client=BACKOFFICE) -> tuple[int, dict]:
    response = members.handler(api_event("GET", "/v1/members/{member_id}/exports/{export_id}",
                                         path_params={"member_id": member_id, "export_id": export_id},
                                         client=client), ctx)
    return response["statusCode"], response_json(response)


def deliver(services, queue_url: str) -> dict:
    """What the event source mapping does: the queue's messages to the worker, one at a time."""
    messages = services.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert messages, "nothing queued"
    result = {"batchItemFailures": []}
    for message in messages:
        result = members_export.handler(sqs_event(sqs_record(message["Body"], message_id=message["MessageId"])),
                                        LambdaContext())
        services.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {"last": result, "messages": [m["Body"] for m in messages]}


def document(url: str) -> dict:
    return json.loads(Path(urlparse(url).path).read_text(encoding="utf-8"))


def test_an_export_holds_every_capabilitys_part_and_is_linked_once_done(services, ctx, clock, exports):
    member_id = enroll(ctx)[1]["member_id"]
    code = a_year_of_history(services, clock, member_id)
    from tests.component.feedback.conftest import message, process

    process(message(member_id=member_id, text="会员日的活动很不错，店员很热情", kind="praise", rating=5,
                    received_at=clock.now().isoformat()))
    status, queued = start(ctx, member_id)
    assert (status, queued["status"]) == (202, "queued") and "download_url" not in queued
    status, again = start(ctx, member_id)  # still queued: the same one
    assert (status, again["export_id"]) == (200, queued["export_id"])

    delivered = deliver(services, exports)
    assert delivered["last"] == {"batchItemFailures": []}
    status, done = status_of(ctx, member_id, queued["export_id"])
    assert (status, done["status"]) == (200, "done")
    data = document(done["download_url"])
    assert data["member_id"] == member_id and data["format_version"] == 1
    assert data["profile"][0]["phone"] == "+8613900001234" and data["profile"][0]["name"] == "王小明"
    assert [c["kind"] for c in data["consents"]] and len(data["purchases"]) == 12
    ledger_total = sum(e["available_change"] + e["reserved_change"] for e in data["ledger"])
    balance = data["points_balance"][0]
    assert ledger_total == balance["available"] + balance["reserved"]
    assert [v["code"] for v in data["vouchers"]] == [code]
    assert len(data["redemptions"]) == 1 and len(data["points_payments"]) == 1
    [feedback] = data["feedback"]
    assert feedback["text"] == "会员日的活动很不错，店员很热情" and feedback["history"][0]["action"] == "received"
    assert done["sections"] == {name: len(data[name]) for name in done["sections"]}
    for internal in ("request_hash", "evt_detail", "GSI1PK", '"PK"'):
        assert internal not in json.dumps(data)

    # a redelivered message changes nothing; a new request after it is done makes a new export
    members_export.handler(sqs_event(sqs_record(delivered["messages"][0])), LambdaContext())
    assert status_of(ctx, member_id, queued["export_id"])[1]["size_bytes"] == done["size_bytes"]
    status, second = start(ctx, member_id)
    assert status == 202 and second["export_id"] != queued["export_id"]


def test_who_may_export_and_what_a_bad_message_does(services, ctx, exports):
    member_id = enroll(ctx)[1]["member_id"]
    assert start(ctx, member_id, client=POS_SH)[0] == 403
    assert start(ctx, member_id, client=WEBSHOP)[0] == 403
    assert start(ctx, member_id, client=APP)[0] == 202  # the member's app asks for the member's data
    status, body = status_of(ctx, member_id, "exp_01JD0000000000000000000000")
    assert (status, body["error"]["code"]) == (404, "EXPORT_NOT_FOUND")
    failed = members_export.handler(sqs_event(sqs_record("{\"member_id\": 1}", message_id="m-bad")), LambdaContext())
    assert failed == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}


def test_erasure_deletes_the_members_exports(services, ctx, exports, tmp_path):
    member_id = enroll(ctx)[1]["member_id"]
    export_id = start(ctx, member_id)[1]["export_id"]
    deliver(services, exports)
    assert list((tmp_path / "exports").rglob("*.json"))
    status, record = erase(ctx, member_id)
    assert status == 201 and record["ended"]["exports"] == 1
    assert not list((tmp_path / "exports").rglob("*.json"))
    assert status_of(ctx, member_id, export_id)[0] == 410


class ManyEntries:
    """A MemberDataSource as a long history would read: 10,000 ledger-like records, made as they are read."""

    sections = ("ledger",)

    def __init__(self, count: int):
        self.count = count

    def member_records(self, member_id: str, section: str):
        for seq in range(1, self.count + 1):
            yield {"entry_id": f"led_{seq:026d}", "seq": seq, "type": "earn", "points": 10, "available_change": 10,
                   "pending_change": 0, "debt_change": 0, "reserved_change": 0, "balance_after": seq * 10,
                   "reference": {"kind": "purchase", "id": f"ORDER-{seq}"}, "store_id": "SH-JINGAN",
                   "reason": "purchase at SH-JINGAN, 1 line", "occurred_at": "2026-11-18T02:00:00+00:00",
                   "recorded_at": "2026-11-18T02:00:01+00:00", "origins": {"SH-JINGAN": 10}}


def test_an_export_of_10000_ledger_entries_keeps_memory_bounded(services, ctx, clock, exports, tmp_path):
    """The worker writes each record as it comes: its peak allocation stays far below the document."""
    from loyalty.members.dynamo import DynamoExportRepository, DynamoMemberRepository
    from loyalty.members.export import MemberExports

    member_id = enroll(ctx)[1]["member_id"]
    store = FolderExportStore(tmp_path / "long")
    worker = MemberExports(DynamoMemberRepository(services.table), DynamoExportRepository(services.table),
                           [ManyEntries(10_000)], store, services.export_queue, clock, services.ids)
    export_id = worker.start(member_id, ClientIdentity.from_context(BACKOFFICE))[0].export_id
    tracemalloc.start()
    done = worker.run(member_id, export_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    [path] = list((tmp_path / "long").rglob("*.json"))
    assert json.loads(path.read_text(encoding="utf-8"))["ledger"][-1]["seq"] == 10_000
    assert done.sections["ledger"] == 10_000 and done.size_bytes == path.stat().st_size > 4_000_000
    assert peak < done.size_bytes / 8, (peak, done.size_bytes)


def test_a_capability_hands_its_records_over_page_by_page(services):
    """member_items reads 200 items a query, so a source never holds more than a page."""
    from loyalty.platform.dynamo import EXPORT_PAGE, member_items

    member_id = "mbr_01JD0000000000000000000001"
    with services.table.batch_writer() as batch:
        for seq in range(1, 451):
            batch.put_item(Item={"PK": f"MEMBER#{member_id}", "SK": f"LEDGER#{seq:012d}", "seq": seq,
                                 "request_hash": "x", "evt_type": "PointsEarned.v1"})
    queries: list[dict] = []
    services.table.meta.client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: queries.append(dict(params)))
    items = list(member_items(services.table, member_id, "LEDGER#"))
    assert [i["seq"] for i in items] == list(range(1, 451))
    assert all(set(i) == {"seq"} for i in items)  # no keys, no bookkeeping
    assert len(queries) == 3 and {q["Limit"] for q in queries} == {EXPORT_PAGE}


def test_the_sample_message_runs_through_the_worker(services, exports):
    """events/members_export/export-requested.json: an export no longer on record (expired) does nothing."""
    event = json.loads((Path(__file__).resolve().parents[2] / "events/members_export/export-requested.json")
                       .read_text(encoding="utf-8"))
    assert members_export.handler(event, LambdaContext()) == {"batchItemFailures": []}


def test_on_aws_the_document_goes_to_the_bucket_and_the_link_is_presigned(services):
    from loyalty.members.storage import S3ExportStore, s3_client

    s3 = s3_client()
    s3.create_bucket(Bucket="loyalty-exports-test")
    store = S3ExportStore(s3, "loyalty-exports-test")
    with store.writer("exports/mbr_x/exp_y.json") as out:
        out.write('{"member_id": "mbr_x", "名字": "王小明"}')
    stored = s3.get_object(Bucket="loyalty-exports-test", Key="exports/mbr_x/exp_y.json")
    assert stored["ContentType"] == "application/json" and out.size == stored["ContentLength"]
    assert json.loads(stored["Body"].read())["名字"] == "王小明"
    link = store.link("exports/mbr_x/exp_y.json", 15)
    assert "X-Amz-Expires=900" in link and "exports/mbr_x/exp_y.json" in link
    store.delete("exports/mbr_x/exp_y.json")
    assert s3.list_objects_v2(Bucket="loyalty-exports-test").get("KeyCount") == 0
