"""Scheduled job, daily: members whose data-processing consent withdrawal has waited out its grace
period are erased (found by the day their erasure falls due, never by reading all members)."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()

SAFETY_MARGIN_MS = 20_000  # stop taking new members while there is time to finish the current one


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    run = services().member_erasure.run_due(
        should_continue=(lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True))
    metrics.add_metric(name="MembersErased", unit=MetricUnit.Count, value=run["erased"])
    logger.info("scheduled erasures", extra={"schedule_time": event.get("time"), **run})
    return run
