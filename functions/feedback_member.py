"""The member's side of feedback, for the member's app and the webshop: the member's feedback with its
progress, expected time, outcome and the staff's reply (never internal notes); rating the handling;
reopening it when not satisfied."""
from typing import Annotated, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.feedback.domain import InvitationRequest, RateRequest, ReopenRequest
from loyalty.feedback.member_views import InvitationAnswer, MemberFeedbackList, MemberFeedbackView
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]
FeedbackIdPath = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-.:]*$")]
NOT_FOUND = ("FEEDBACK_NOT_FOUND",)  # also another member's item, which is not revealed


@router.get(
    "/v1/members/<member_id>/feedback",
    summary="The member's feedback: status, department, expected time, outcome and reply",
    description="Newest first. For the member's app and the webshop (and the back office); internal notes and "
                "who handles an item are never shown.",
    tags=["feedback"],
    responses={200: json_content(MemberFeedbackList, "A page of the member's feedback"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def list_member_feedback(
    member_id: MemberId,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    return json_response(200, services().member_feedback.list(member_id, limit, cursor, caller(router)))


@router.post(
    "/v1/members/<member_id>/feedback/<feedback_id>/rating",
    summary="The member rates how their feedback was handled (1-5)",
    description="After an outcome (resolved, in progress or cannot be resolved); rating again replaces the rating.",
    tags=["feedback"],
    responses={200: json_content(MemberFeedbackView, "Rated"),
               **errors(not_found=NOT_FOUND, conflict=("INVALID_STATUS_TRANSITION", "CONCURRENT_UPDATE"))},
)
def rate(member_id: MemberId, feedback_id: FeedbackIdPath, request: RateRequest):
    view = services().member_feedback.rate(member_id, feedback_id, request, caller(router))
    logger.info("feedback rated", extra={"feedback_id": feedback_id, "member_id": member_id, "rating": view.rating})
    metrics.add_metric(name="FeedbackRated", unit=MetricUnit.Count, value=1)
    return json_response(200, view)


@router.post(
    "/v1/members/<member_id>/feedback/<feedback_id>/reopen",
    summary="The member is not satisfied: reopen the feedback",
    description="Within the configured window after its outcome (14 days by default). It goes back to its "
                "department, due sooner. Send the `version` you read: the same reopen sent again answers 200.",
    tags=["feedback"],
    responses={200: json_content(MemberFeedbackView, "Reopened"),
               **errors(not_found=NOT_FOUND,
                        conflict=("INVALID_STATUS_TRANSITION", "REOPEN_WINDOW_CLOSED", "CONCURRENT_UPDATE"))},
)
def reopen(member_id: MemberId, feedback_id: FeedbackIdPath, request: ReopenRequest):
    view = services().member_feedback.reopen(member_id, feedback_id, request, caller(router))
    logger.info("feedback reopened", extra={"feedback_id": feedback_id, "member_id": member_id,
                                            "reopen_count": view.reopen_count})
    metrics.add_metric(name="FeedbackReopened", unit=MetricUnit.Count, value=1)
    return json_response(200, view)


@router.post(
    "/v1/members/<member_id>/feedback-invitations",
    summary="After a purchase: should the app invite the member to give feedback?",
    description="Sampled by the order (`invitation_sample_pct` of purchases, the same answer every time for an "
                "order). An invited order gets an `invitation_id` and one FeedbackInvited.v1, whatever the resends.",
    tags=["feedback"],
    responses={200: json_content(InvitationAnswer, "Whether to invite"),
               **errors(bad_request=("UNKNOWN_STORE",), not_found=("MEMBER_NOT_FOUND",))},
)
def invite(member_id: MemberId, request: InvitationRequest):
    answer = services().member_feedback.invite(member_id, request, caller(router))
    if answer.invited:
        metrics.add_metric(name="FeedbackInvited", unit=MetricUnit.Count, value=1)
    return json_response(200, answer)


SCOPES = {  # the use case also checks the client is the member's app, the webshop or the back office
    "GET /v1/members/{member_id}/feedback": Scope.FEEDBACK_WRITE,
    "POST /v1/members/{member_id}/feedback/{feedback_id}/rating": Scope.FEEDBACK_WRITE,
    "POST /v1/members/{member_id}/feedback/{feedback_id}/reopen": Scope.FEEDBACK_WRITE,
    "POST /v1/members/{member_id}/feedback-invitations": Scope.FEEDBACK_WRITE,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
