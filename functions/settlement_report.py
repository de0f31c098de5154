"""Back office: settlement between stores for a period, GET /v1/reports/settlement."""
from datetime import date
from typing import Annotated, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.kernel.identity import Scope
from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.observability import make_tracer
from loyalty.platform.schemas import errors, json_content
from loyalty.settlement.domain import MAX_REPORT_DAYS, SettlementQuery
from loyalty.settlement.results import SettlementReport
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

StoreIdQuery = Annotated[Optional[str], Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.get(
    "/v1/reports/settlement",
    summary="Settlement between stores: points issued, returned, redeemed, expired and captured per store, "
            "and what each store owes every other",
    description=f"`from` and `to` are the program's calendar days (inclusive, in its time zone) on which ledger "
                f"entries were recorded; at most {MAX_REPORT_DAYS} days. Points earned at store A and spent at store B "
                "mean A owes B their value, at the program's `points_per_currency_unit`. Kept up to date from "
                "the ledger within seconds. A key for some stores sees those stores only.",
    tags=["reports"],
    responses={200: json_content(SettlementReport, "The figures and positions"),
               **errors(bad_request=("UNKNOWN_STORE",), body=False)},
)
def settlement_report(
    from_date: Annotated[date, Query(alias="from")],
    to_date: Annotated[date, Query(alias="to")],
    store_id: StoreIdQuery = None,
):
    query = SettlementQuery(from_date=from_date, to_date=to_date, store_id=store_id)
    return json_response(200, services().settlement_reports.report(query, caller(router)))


SCOPES = {"GET /v1/reports/settlement": Scope.REPORTS_READ}  # checked before anything else is read
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
