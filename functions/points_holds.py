"""Scheduled job: points reservations neither captured nor voided in time go back to their members."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()

SAFETY_MARGIN_MS = 10_000  # stop taking new holds while there is still time to finish the current one


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    run = services().points_payments.release_expired(
        should_continue=(lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True))
    metrics.add_metric(name="PointsHoldsReleased", unit=MetricUnit.Count, value=run["released"])
    logger.info("hold sweep", extra={"schedule_time": event.get("time"), **run})
    return run
