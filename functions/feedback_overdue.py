"""Scheduled job: open feedback past its due time is flagged overdue (status unchanged) and
announced once with FeedbackOverdue.v1."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    run = services().feedback_desk.flag_overdue()
    metrics.add_metric(name="FeedbackFlaggedOverdue", unit=MetricUnit.Count, value=run.flagged)
    logger.info("overdue check", extra={"schedule_time": event.get("time"), "flagged": run.flagged,
                                        "notified": run.notified})
    return run.body()
