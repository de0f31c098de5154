"""Back office feedback handling: lists, one item with its history, acknowledge / assign / resolve,
the classification and routing configuration, and the feedback report."""
from datetime import date
from typing import Annotated, Literal, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.feedback.domain import (
    AcknowledgeRequest, AssignRequest, FeedbackCategory, FeedbackQuery, FeedbackStatus, ResolveRequest, Urgency,
)
from loyalty.feedback.config import FeedbackConfigUpdate
from loyalty.feedback.report import ReportQuery
from loyalty.feedback.results import FeedbackConfigView, FeedbackDetail, FeedbackList, FeedbackReport, FeedbackView
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

FeedbackIdPath = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-.:]*$")]
StoreIdQuery = Annotated[Optional[str], Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
NOT_FOUND = ("FEEDBACK_NOT_FOUND",)  # also for another store's item, which is not revealed


@router.get(
    "/v1/feedback",
    summary="List feedback by status, store, category, urgency or overdue",
    description="Without status or store_id, every open item (new, acknowledged, assigned) by due time. "
                "A store's items come newest first; a status's items by due time.",
    tags=["feedback"],
    responses={200: json_content(FeedbackList, "A page of feedback"), **errors(body=False)},
)
def list_feedback(
    status: Annotated[Optional[FeedbackStatus], Query()] = None,
    store_id: StoreIdQuery = None,
    category: Annotated[Optional[FeedbackCategory], Query()] = None,
    urgency: Annotated[Optional[Urgency], Query()] = None,
    overdue: Annotated[Optional[bool], Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=2048)] = None,
):
    query = FeedbackQuery(status=status, store_id=store_id, category=category, urgency=urgency, overdue=overdue,
                          limit=limit, cursor=cursor)
    return json_response(200, services().feedback_desk.list(query, caller(router)))


@router.get(
    "/v1/feedback/config",
    summary="The keyword dictionaries, routing and deadlines feedback is handled with",
    tags=["feedback"],
    responses={200: json_content(FeedbackConfigView, "Current configuration"), **errors(body=False)},
)
def get_config():
    return json_response(200, services().feedback_desk.get_config(caller(router)))


@router.put(
    "/v1/feedback/config",
    summary="Replace the feedback configuration",
    description="Send the whole configuration with the version you read (0 while the defaults apply). "
                "Applies to feedback processed from then on; stored items keep their classification.",
    tags=["feedback"],
    responses={200: json_content(FeedbackConfigView, "Stored"), **errors(conflict=("CONCURRENT_UPDATE",))},
)
def put_config(update: FeedbackConfigUpdate):
    client = caller(router)
    stored = services().feedback_desk.put_config(update, client)
    logger.info("feedback config changed", extra={"version": stored.version, "client_id": client.client_id})
    return json_response(200, stored)


@router.get(
    "/v1/feedback/<feedback_id>",
    summary="One feedback item with its history",
    tags=["feedback"],
    responses={200: json_content(FeedbackDetail, "The item and every change to it, oldest first"),
               **errors(not_found=NOT_FOUND, body=False)},
)
def get_feedback(feedback_id: FeedbackIdPath):
    return json_response(200, services().feedback_desk.get(feedback_id, caller(router)))


_WORKFLOW = errors(not_found=NOT_FOUND, conflict=("INVALID_STATUS_TRANSITION", "CONCURRENT_UPDATE"))


@router.post(
    "/v1/feedback/<feedback_id>/acknowledge",
    summary="Acknowledge new feedback",
    tags=["feedback"],
    responses={200: json_content(FeedbackView, "Acknowledged"), **_WORKFLOW},
)
def acknowledge(feedback_id: FeedbackIdPath, request: AcknowledgeRequest):
    return _changed("acknowledged", services().feedback_desk.acknowledge(feedback_id, request, caller(router)))


@router.post(
    "/v1/feedback/<feedback_id>/assign",
    summary="Assign open feedback to a staff member",
    tags=["feedback"],
    responses={200: json_content(FeedbackView, "Assigned"), **_WORKFLOW},
)
def assign(feedback_id: FeedbackIdPath, request: AssignRequest):
    return _changed("assigned", services().feedback_desk.assign(feedback_id, request, caller(router)))


@router.post(
    "/v1/feedback/<feedback_id>/resolve",
    summary="Resolve feedback with a note on what was done (final)",
    tags=["feedback"],
    responses={200: json_content(FeedbackView, "Resolved"), **_WORKFLOW},
)
def resolve_feedback(feedback_id: FeedbackIdPath, request: ResolveRequest):
    item = services().feedback_desk.resolve(feedback_id, request, caller(router))
    metrics.add_metric(name="FeedbackResolvedOnTime" if item.resolved_on_time else "FeedbackResolvedLate",
                       unit=MetricUnit.Count, value=1)
    return _changed("resolved", item)


def _changed(action: str, item: FeedbackView):
    logger.info("feedback " + action, extra={"feedback_id": item.feedback_id, "store_id": item.store_id,
                                             "status": item.status.value, "version": item.version})
    return json_response(200, item)


_REPORT_CONTENT = json_content(FeedbackReport, "The figures (with format=csv: the handling KPIs as CSV)")
_REPORT_CONTENT["content"]["text/csv"] = {"schema": {"type": "string"}}


@router.get(
    "/v1/reports/feedback",
    summary="Feedback figures for a period: categories, statuses, rating, NPS, resolved on time, per store; "
            "handling KPIs per store, department and assignee",
    description="`from` and `to` are calendar days (inclusive) in each store's time zone (the handling KPIs: "
                "UTC+8 days); at most 92 days. `format=csv` answers the handling KPIs as CSV (text/csv), one "
                "row for the chain and one per store, department and assignee.",
    tags=["reports"],
    responses={200: _REPORT_CONTENT, **errors(bad_request=("UNKNOWN_STORE",), body=False)},
)
def feedback_report(
    from_date: Annotated[date, Query(alias="from")],
    to_date: Annotated[date, Query(alias="to")],
    store_id: StoreIdQuery = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
):
    query = ReportQuery(from_date=from_date, to_date=to_date, store_id=store_id)
    report = services().feedback_reports.report(query, caller(router))
    if format == "csv":
        from loyalty.feedback.kpis import handling_csv

        name = f"feedback-handling-{from_date.isoformat()}-{to_date.isoformat()}.csv"
        return Response(status_code=200, content_type="text/csv; charset=utf-8",
                        body=handling_csv(report.handling.model_dump(mode="json")),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return json_response(200, report)


SCOPES = {  # checked before the body is read: the route alone decides
    "GET /v1/feedback": Scope.FEEDBACK_MANAGE,
    "GET /v1/feedback/config": Scope.FEEDBACK_MANAGE,
    "PUT /v1/feedback/config": Scope.FEEDBACK_MANAGE,
    "GET /v1/feedback/{feedback_id}": Scope.FEEDBACK_MANAGE,
    "POST /v1/feedback/{feedback_id}/acknowledge": Scope.FEEDBACK_MANAGE,
    "POST /v1/feedback/{feedback_id}/assign": Scope.FEEDBACK_MANAGE,
    "POST /v1/feedback/{feedback_id}/resolve": Scope.FEEDBACK_MANAGE,
    "GET /v1/reports/feedback": Scope.REPORTS_READ,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
