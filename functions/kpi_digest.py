"""Scheduled job (monthly, on the 1st): stores last month's KPI digest against the month before, once."""
from aws_lambda_powertools import Logger, Metrics

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    month = (event or {}).get("month") if isinstance(event, dict) else None
    digest = services().kpi_digests.store_last_month(month)
    logger.info("monthly digest", extra={"month": digest.month, "stored_now": digest.created})
    return digest.model_dump(mode="json")
