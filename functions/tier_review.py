"""Scheduled job: reviews the members the tier review index lists as due (downgrades, warnings, lock ends)."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()

SAFETY_MARGIN_MS = 15_000  # stop taking new members while there is still time to finish the current one


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    run = services().tier_reviews.run(
        should_continue=(lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True))
    metrics.add_metric(name="TierReviewMembers", unit=MetricUnit.Count, value=run.members)
    metrics.add_metric(name="TierDowngrades", unit=MetricUnit.Count, value=run.downgraded)
    metrics.add_metric(name="TierDowngradeWarnings", unit=MetricUnit.Count, value=run.warned)
    if run.failed:
        metrics.add_metric(name="TierReviewFailed", unit=MetricUnit.Count, value=run.failed)
    logger.info("tier review run", extra={"schedule_time": event.get("time"), **run.body()})
    return run.body()
