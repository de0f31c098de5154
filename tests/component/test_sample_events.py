"""The sample events under events/members and events/authorizer run through their handlers as documented."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import authorizer
import members
from local.demo import DEMO_CLIENTS
from tests.conftest import response_json

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE_MEMBER_ID = "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E"  # path parameter of get-member.json and patch-consents.json
SAMPLE_CARD = "8800123456789010"                    # card of lookup-by-card.json

# file -> (needs the sample member enrolled first, expected status, error code or None)
MEMBER_CASES = {
    "enroll.json": (False, 201, None),
    "enroll-duplicate-phone.json": (True, 409, "PHONE_ALREADY_ENROLLED"),
    "enroll-bad-phone.json": (False, 400, None),
    "lookup-by-phone.json": (True, 200, None),
    "lookup-by-card.json": (True, 200, None),
    "get-member.json": (True, 200, None),
    "patch-consents.json": (True, 200, None),
    "withdraw-processing-consent.json": (True, 200, None),
    "erase.json": (True, 201, None),
    "export.json": (True, 202, None),
}
AUTHORIZER_CASES = {"request.json": "pos-sh-jingan"}  # file -> client id it authenticates


def load(relative: str) -> dict:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def test_every_sample_event_has_an_expectation():
    assert sorted(p.name for p in (EVENTS / "members").glob("*.json")) == sorted(MEMBER_CASES)
    assert sorted(p.name for p in (EVENTS / "authorizer").glob("*.json")) == sorted(AUTHORIZER_CASES)


@pytest.fixture
def sample_member(services, ctx, clock, chosen_ids):
    """Enroll the member of enroll.json with the id and card the other sample events name."""
    chosen_ids.member_id, chosen_ids.card_number = SAMPLE_MEMBER_ID, SAMPLE_CARD
    response = members.handler(load("members/enroll.json"), ctx)
    assert response["statusCode"] == 201, response
    chosen_ids.member_id = chosen_ids.card_number = None
    clock.advance(minutes=10)  # later requests happen after the enrollment
    return response_json(response)


@pytest.mark.parametrize("name", sorted(MEMBER_CASES))
def test_member_sample_event(services, ctx, request, publisher, name):  # noqa: C901
    needs_member, status, code = MEMBER_CASES[name]
    if needs_member:
        request.getfixturevalue("sample_member")
    if name == "export.json":  # the queue the export is handed to, and the folder it would go to
        from loyalty.members.storage import FolderExportStore, SqsExportQueue

        services.__dict__["export_store"] = FolderExportStore(request.getfixturevalue("tmp_path"))
        services.__dict__["export_queue"] = SqsExportQueue(services.sqs,
                                                           request.getfixturevalue("aws")["queue_urls"]["ExportQueue"])
    event = load(f"members/{name}")
    assert event["requestContext"]["authorizer"]["client_id"]  # events carry the authorizer's context
    response = members.handler(event, ctx)
    assert response["statusCode"] == status, response
    body = response_json(response)
    if code:
        assert body["error"]["code"] == code
    if status == 400:
        assert body["error"]["field"] == "phone"
    if status == 200 or name in ("erase.json", "export.json"):
        assert body["member_id"] == SAMPLE_MEMBER_ID
    if name == "patch-consents.json":
        assert body["consents"]["marketing"]["granted"] is False
        assert publisher.types()[-1] == "MemberProfileChanged.v1"
    if name == "withdraw-processing-consent.json":
        assert body["status"] == "erasure_scheduled"
        assert sorted(publisher.types()[-2:]) == ["MemberErasureScheduled.v1", "MemberProfileChanged.v1"]
    if name == "erase.json":
        assert (body["status"], body["reason"]) == ("done", "member_request")
        assert publisher.types()[-1] == "MemberErased.v1"
        gone = members.handler(load("members/get-member.json"), ctx)
        assert gone["statusCode"] == 410 and response_json(gone)["error"]["code"] == "MEMBER_ERASED"


@pytest.mark.parametrize("name", sorted(AUTHORIZER_CASES))
def test_authorizer_sample_event(services, ctx, name):
    for client_id, kind, stores, key_id, secret in DEMO_CLIENTS:
        services.api_key_service.create(client_id, kind, stores, key_id=key_id, secret=secret)
    response = authorizer.handler(load(f"authorizer/{name}"), ctx)
    assert response["principalId"] == AUTHORIZER_CASES[name]
    [statement] = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert response["context"]["client_id"] == AUTHORIZER_CASES[name]


@pytest.mark.parametrize("name", sorted(AUTHORIZER_CASES))
def test_authorizer_sample_event_without_the_key_seeded_is_refused(services, ctx, name):
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorizer.handler(load(f"authorizer/{name}"), ctx)
