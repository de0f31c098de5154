"""Scheduled job, daily shortly after midnight in the program's time zone: hands out the day's partitions
of the expiry index (one task per day and shard) to the expiry workers through the expiry queue."""
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
    dispatch = services().points_expiry.dispatch()
    metrics.add_metric(name="PointsExpiryTasksQueued", unit=MetricUnit.Count, value=dispatch.tasks)
    logger.info("expiry dispatch", extra={"schedule_time": event.get("time"), **dispatch.body()})
    return dispatch.body()
