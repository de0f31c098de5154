"""Reporting: KPIs by store, city, channel, day or month (GET /v1/reports/kpis), and the day's
reconciliation (GET /v1/reports/reconciliation)."""
from datetime import date
from typing import Annotated, Literal, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.kernel.identity import Scope
from loyalty.kpis.results import KpiReport, ReconciliationResult
from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.observability import make_tracer
from loyalty.platform.schemas import errors, json_content
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

StoreIdQuery = Annotated[Optional[str], Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
_REPORT_CONTENT = json_content(KpiReport, "The figures per group and for the whole period (CSV: one line per group)")
_REPORT_CONTENT["content"]["text/csv"] = {"schema": {"type": "string"}}


@router.get(
    "/v1/reports/kpis",
    summary="Member KPIs for a period, by store, city, channel, day, month or for the chain",
    description="`from` and `to` are the program's calendar days (inclusive, in its time zone); at most 366. Figures "
                "are defined in docs/kpis.md and kept from the platform's events within seconds. `format=csv` or "
                "`Accept: text/csv` answers one line per group. A key for some stores sees those stores only, "
                "grouped by store, day or month; a chain-wide key also gets the chain's running totals "
                "(`standing`: points outstanding and their value, the tier distribution, lifetime value) and, grouped by "
                "month, the retention of each enrollment month's cohort (`cohorts`).",
    tags=["reports"],
    responses={200: _REPORT_CONTENT, **errors(bad_request=("UNKNOWN_STORE",), body=False)},
)
def kpi_report(
    from_date: Annotated[date, Query(alias="from")],
    to_date: Annotated[date, Query(alias="to")],
    group_by: Annotated[Literal["store", "city", "channel", "day", "month", "chain"], Query()] = "store",
    store_id: StoreIdQuery = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
):
    from loyalty.kpis.service import KpiQuery

    query = KpiQuery(from_date=from_date, to_date=to_date, group_by=group_by, store_id=store_id)
    report = services().kpi_reports.report(query, caller(router))
    accept = (router.current_event.headers or {}).get("Accept") or (router.current_event.headers or {}).get("accept") or ""
    if format == "csv" or "text/csv" in accept:
        from loyalty.kpis.report import to_csv

        name = f"kpis-{group_by}-{from_date.isoformat()}-{to_date.isoformat()}.csv"
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=to_csv(report),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return json_response(200, report)


@router.get(
    "/v1/reports/reconciliation",
    summary="The day's reconciliation: members' balances against their ledgers, and the chain's figures",
    description="What the daily job (02:00 in the program's zone, for the day before) found: every member whose "
                "points changed that day, their balance against their newest ledger entries; the KPIs' points "
                "figures against the settlement's; the stores' positions summing to zero. Drift is reported "
                "(ReconciliationDrift.v1, an alarm), never corrected. A chain-wide key reads it; 404 "
                "RECONCILIATION_NOT_FOUND before the day's run.",
    tags=["reports"],
    responses={200: json_content(ReconciliationResult, "The day's result"),
               **errors(not_found=("RECONCILIATION_NOT_FOUND",), body=False)},
)
def reconciliation_report(day: Annotated[date, Query(alias="date")]):
    return json_response(200, services().reconciliation.stored(day, caller(router)))


SCOPES = {  # checked before anything else is read
    "GET /v1/reports/kpis": Scope.KPIS_READ,
    "GET /v1/reports/reconciliation": Scope.KPIS_READ,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
