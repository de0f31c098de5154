"""Enrollment and member lookup: POST/GET/PATCH /v1/members..."""
from typing import Annotated, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.members.domain import MemberView
from loyalty.platform.schemas import errors, json_content
from loyalty.members.domain import MemberLookup
from loyalty.members.domain import AccessLog, ConsentHistory, EnrollmentRequest, MemberPatch
from loyalty.members.erasure import ErasureRequest, ErasureView
from loyalty.members.export import ExportView
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

IdempotencyKey = Annotated[
    Optional[str],
    Header(alias="Idempotency-Key", min_length=8, max_length=128,
           description="Client-chosen key; a retry with the same key and body returns the original response"),
]
MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]


@router.post(
    "/v1/members",
    summary="Enroll a member",
    tags=["members"],
    responses={201: json_content(MemberView, "Enrolled"), 200: json_content(MemberView, "Idempotent replay"),
               **errors(bad_request=("UNKNOWN_STORE",), conflict=(
                   "PHONE_ALREADY_ENROLLED", "EMAIL_ALREADY_ENROLLED", "IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE"))},
)
def enroll(request: EnrollmentRequest, idempotency_key: IdempotencyKey = None):
    outcome = services().member_service.enroll(request, caller(router), idempotency_key)
    logger.info("enrollment", extra={"member_id": outcome.member.member_id, "new_member": outcome.created})
    if outcome.created:
        metrics.add_metric(name="MembersEnrolled", unit=MetricUnit.Count, value=1)
    return json_response(201 if outcome.created else 200, outcome.member,
                         headers={"Location": f"/v1/members/{outcome.member.member_id}"})


@router.post(
    "/v1/members/lookup",
    summary="Find a member by phone number or member card",
    description="Personal data stays out of URLs and access logs, so the phone or card travels in the body.",
    tags=["members"],
    responses={200: json_content(MemberView, "The member"), **errors(not_found=("MEMBER_NOT_FOUND",))},
)
def lookup(request: MemberLookup):
    service = services().member_service
    client = caller(router)
    member = service.find_by_phone(request.phone, client) if request.phone else \
        service.find_by_card(request.card_number, client)
    logger.info("member lookup", extra={"member_id": member.member_id, "by": "phone" if request.phone else "card"})
    return json_response(200, member)


@router.get(
    "/v1/members/<member_id>",
    summary="Get a member",
    tags=["members"],
    responses={200: json_content(MemberView, "The member"), **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_member(member_id: MemberId):
    return json_response(200, services().member_service.get(member_id, caller(router)))


@router.patch(
    "/v1/members/<member_id>",
    summary="Change a member's profile, interests or consents",
    description="Consent changes are added to the member's consent history, never overwritten.",
    tags=["members"],
    responses={200: json_content(MemberView, "The changed member"), **errors(
        not_found=("MEMBER_NOT_FOUND",), conflict=("EMAIL_ALREADY_ENROLLED", "CONCURRENT_UPDATE"))},
)
def patch_member(member_id: MemberId, patch: MemberPatch):
    member = services().member_service.update(member_id, patch, caller(router))
    logger.info("member changed", extra={"member_id": member_id})
    return json_response(200, member)


@router.get(
    "/v1/members/<member_id>/consents",
    summary="A member's consent history, newest first",
    tags=["members"],
    responses={200: json_content(ConsentHistory, "Consent records, newest first"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def consent_history(member_id: MemberId):
    return json_response(200, services().member_service.consent_history(member_id, caller(router)))


@router.post(
    "/v1/members/<member_id>/erasure",
    summary="Erase a member's personal data (the books stay)",
    description="Revokes the member's unused vouchers and releases points held at a till, then replaces the "
                "profile by a record without personal data and releases the phone, email and card, so the phone "
                "can enroll again as a new member. Ledger, purchases, redemptions and settlement figures stay "
                "under the member id. Afterwards the member's routes answer 410 `MEMBER_ERASED`. Asking again "
                "answers the erasure record (200).",
    tags=["members"],
    responses={201: json_content(ErasureView, "Erased"), 200: json_content(ErasureView, "Erased before"),
               **errors(not_found=("MEMBER_NOT_FOUND",), conflict=("CONCURRENT_UPDATE",))},
)
def erase_member(member_id: MemberId, request: ErasureRequest):
    record, created = services().member_erasure.request(member_id, request, caller(router))
    logger.info("member erasure", extra={"member_id": member_id, "reason": record.reason.value, "new": created})
    if created:
        metrics.add_metric(name="MembersErased", unit=MetricUnit.Count, value=1)
    return json_response(201 if created else 200, record)


@router.get(
    "/v1/members/<member_id>/erasure",
    summary="A member's erasure: scheduled, under way or done, who asked and why",
    tags=["members"],
    responses={200: json_content(ErasureView, "The erasure record"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_erasure(member_id: MemberId):
    return json_response(200, services().member_erasure.get(member_id, caller(router)))


@router.get(
    "/v1/members/<member_id>/access-log",
    summary="Who in the back office saw the member's personal data in clear, newest first",
    description="Every read of a member's phone, email, name, birthday or address by a back-office client "
                "(`members:pii`) is recorded, kept 400 days; the last 100 are shown. Tills, the webshop and "
                "the app serve the member in person and are not logged.",
    tags=["members"],
    responses={200: json_content(AccessLog, "The last 100 reads"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def access_log(member_id: MemberId):
    return json_response(200, services().member_service.access_log(member_id, caller(router)))


ExportId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^exp_[0-9A-Z]{26}$")]


@router.post(
    "/v1/members/<member_id>/exports",
    summary="Export a member's data (access request)",
    description="Queues one JSON document with the profile, consent history, points balance, ledger, purchases, "
                "points payments, redemptions and vouchers, written page by page. Poll the export until `done`; "
                "it then carries a download link that works for 15 minutes. An export still queued or running "
                "is answered instead of a new one (200). Documents are deleted after 7 days.",
    tags=["members"],
    responses={202: json_content(ExportView, "Queued"), 200: json_content(ExportView, "One is under way already"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def start_export(member_id: MemberId):
    record, created = services().member_exports.start(member_id, caller(router))
    logger.info("member export requested", extra={"member_id": member_id, "export_id": record.export_id,
                                                  "new": created})
    return json_response(202 if created else 200, record,
                         headers={"Location": f"/v1/members/{member_id}/exports/{record.export_id}"})


@router.get(
    "/v1/members/<member_id>/exports/<export_id>",
    summary="A member's data export: its progress, and the download link once done",
    tags=["members"],
    responses={200: json_content(ExportView, "The export"),
               **errors(not_found=("MEMBER_NOT_FOUND", "EXPORT_NOT_FOUND"), body=False)},
)
def get_export(member_id: MemberId, export_id: ExportId):
    return json_response(200, services().member_exports.get(member_id, export_id, caller(router)))


SCOPES = {  # checked before the body is read: the route alone decides
    "POST /v1/members": Scope.MEMBERS_WRITE,
    "POST /v1/members/lookup": Scope.MEMBERS_READ,
    "GET /v1/members/{member_id}": Scope.MEMBERS_READ,
    "PATCH /v1/members/{member_id}": Scope.MEMBERS_WRITE,
    "GET /v1/members/{member_id}/consents": Scope.MEMBERS_READ,
    "POST /v1/members/{member_id}/erasure": Scope.MEMBERS_ERASE,
    "GET /v1/members/{member_id}/erasure": Scope.MEMBERS_ERASE,
    "GET /v1/members/{member_id}/access-log": Scope.MEMBERS_ERASE,
    "POST /v1/members/{member_id}/exports": Scope.MEMBERS_EXPORT,
    "GET /v1/members/{member_id}/exports/{export_id}": Scope.MEMBERS_EXPORT,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
