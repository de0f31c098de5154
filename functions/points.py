"""Points: purchases, returns, activities and adjustments; balance and ledger. /v1/members/{id}/..."""
from typing import TYPE_CHECKING, Annotated, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.points.requests import ActivityRequest, AdjustmentRequest, PurchaseRequest, ReturnRequest
from loyalty.points.results import ActivityResult, AdjustmentResult, LedgerPage, PointsView, PurchaseResult, ReturnResult
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

if TYPE_CHECKING:  # the use cases load on the first request
    from loyalty.points.operation import Outcome

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]
REPLAY_CONFLICTS = ("IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE")


def _written(result: type, created: str, **error_codes) -> dict:
    return {201: json_content(result, created), 200: json_content(result, "Idempotent replay: the original result"),
            **errors(**error_codes)}


def _answer(outcome: "Outcome", metric: str, log: str, member_id: str):
    logger.info(log, extra={"member_id": member_id, "replay": not outcome.created,
                            "points": outcome.result.points})
    if outcome.created:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return json_response(201 if outcome.created else 200, outcome.result)


@router.post(
    "/v1/members/<member_id>/purchases",
    summary="Earn points on a purchase",
    description="Idempotent by store_id + order_id for good: a retry gets the original result (200); the same "
                "order with another body gets 409 IDEMPOTENCY_KEY_REUSED. Offline purchases are accepted up to the "
                "program's late_purchase_days after occurred_at.",
    tags=["points"],
    responses=_written(PurchaseResult, "Points earned, with the breakdown and the balance after",
                       bad_request=("UNKNOWN_STORE", "UNSUPPORTED_CURRENCY"), not_found=("MEMBER_NOT_FOUND",),
                       conflict=REPLAY_CONFLICTS, refused=("SUBMITTED_TOO_LATE", "OCCURRED_IN_FUTURE")),
)
def post_purchase(member_id: MemberId, request: PurchaseRequest):
    outcome = services().points_service.earn_purchase(member_id, request, caller(router))
    return _answer(outcome, "PurchasesEarned", "purchase", member_id)


@router.post(
    "/v1/members/<member_id>/returns",
    summary="Claw back the points of returned goods",
    description="Idempotent by returning store + return_id. Points come back from the purchase's pending points "
                "first, then from available; what the balance cannot cover is recorded as debt.",
    tags=["points"],
    responses=_written(ReturnResult, "Points clawed back", bad_request=("UNKNOWN_STORE",),
                       not_found=("PURCHASE_NOT_FOUND",), conflict=REPLAY_CONFLICTS,
                       refused=("RETURN_EXCEEDS_PURCHASE", "RETURN_BEFORE_PURCHASE", "OCCURRED_IN_FUTURE")),
)
def post_return(member_id: MemberId, request: ReturnRequest):
    outcome = services().points_service.record_return(member_id, request, caller(router))
    return _answer(outcome, "ReturnsRecorded", "return", member_id)


@router.post(
    "/v1/members/<member_id>/activities",
    summary="Earn points for an activity (check-in, review, event, survey...)",
    tags=["points"],
    responses=_written(ActivityResult, "Points earned", bad_request=("UNKNOWN_STORE", "UNKNOWN_ACTIVITY_TYPE"),
                       not_found=("MEMBER_NOT_FOUND",), conflict=REPLAY_CONFLICTS,
                       refused=("ACTIVITY_CAP_REACHED", "SUBMITTED_TOO_LATE", "OCCURRED_IN_FUTURE")),
)
def post_activity(member_id: MemberId, request: ActivityRequest):
    outcome = services().points_service.earn_activity(
        member_id, activity_id=request.activity_id, activity_type=request.type, occurred_at=request.occurred_at,
        store_id=request.store_id, client=caller(router))
    return _answer(outcome, "ActivitiesEarned", "activity", member_id)


@router.post(
    "/v1/members/<member_id>/adjustments",
    summary="Correct a member's points (back office)",
    description="Needs the points:adjust scope; recorded with the client that made it. A negative adjustment "
                "cannot take available points below zero (409 INSUFFICIENT_POINTS).",
    tags=["points"],
    responses=_written(AdjustmentResult, "Adjusted", not_found=("MEMBER_NOT_FOUND",),
                       conflict=("INSUFFICIENT_POINTS", *REPLAY_CONFLICTS)),
)
def post_adjustment(member_id: MemberId, request: AdjustmentRequest):
    outcome = services().points_service.adjust(member_id, request, caller(router))
    return _answer(outcome, "PointsAdjusted", "adjustment", member_id)


@router.get(
    "/v1/members/<member_id>/points",
    summary="A member's points: available, pending, debt, lifetime earned, expiring soon",
    tags=["points"],
    responses={200: json_content(PointsView, "The member's points"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_points(member_id: MemberId):
    return json_response(200, services().points_queries.balance(member_id, caller(router)))


@router.get(
    "/v1/members/<member_id>/ledger",
    summary="A member's points ledger, newest first",
    description="Pass next_cursor back as cursor for the next page.",
    tags=["points"],
    responses={200: json_content(LedgerPage, "A page of ledger entries"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_ledger(
    member_id: MemberId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=1024)] = None,
):
    page = services().points_queries.ledger(member_id, caller(router), limit=limit, cursor=cursor)
    return json_response(200, page)


SCOPES = {  # checked before the body is read: the route alone decides
    "POST /v1/members/{member_id}/purchases": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/returns": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/activities": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/adjustments": Scope.POINTS_ADJUST,
    "GET /v1/members/{member_id}/points": Scope.POINTS_READ,
    "GET /v1/members/{member_id}/ledger": Scope.POINTS_READ,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
