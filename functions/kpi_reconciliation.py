"""Scheduled job (daily, and on demand with {"date": "YYYY-MM-DD"}): proves a day's books and reports drift."""
from datetime import date

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()

SAFETY_MARGIN_MS = 30_000  # stop taking new members while there is time to store what was found


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    asked = (event or {}).get("date") if isinstance(event, dict) else None
    day = date.fromisoformat(asked) if asked else None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    result = services().reconciliation.run(
        day, should_continue=(lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True))
    metrics.add_metric(name="ReconciliationMembers", unit=MetricUnit.Count, value=result.members_checked)
    metrics.add_metric(name="ReconciliationDrift", unit=MetricUnit.Count, value=len(result.drifts))
    body = result.model_dump(mode="json")
    logger.info("reconciliation run", extra={"day": body["day"], "members_checked": result.members_checked,
                                             "drifts": len(result.drifts), "complete": result.complete})
    return body
