"""Scheduled job (daily): re-assesses the members whose stage or churn risk time alone may change today."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()

SAFETY_MARGIN_MS = 15_000  # stop taking new members while there is time to finish the current one


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    run = services().insight.check_due(
        should_continue=(lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True))
    metrics.add_metric(name="InsightCheckMembers", unit=MetricUnit.Count, value=run.members)
    metrics.add_metric(name="ChurnRisksRaised", unit=MetricUnit.Count, value=run.risks_raised)
    body = run.model_dump(mode="json")
    logger.info("insight check run", extra={"members": run.members, "changed": run.changed,
                                            "risks_raised": run.risks_raised, "failed": run.failed})
    return body
