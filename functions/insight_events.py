"""SQS consumer of the bus: keeps each member's behaviour profile, tags, stage and churn risk, once per event.

Failures are reported per message (batchItemFailures); a message that keeps failing goes to the
dead-letter queue after the queue's maxReceiveCount."""
from aws_lambda_powertools import Logger, Metrics

from loyalty.platform.bus import BusEvent, process_bus_batch
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    insight = services().insight

    def apply(message: BusEvent) -> str:
        return insight.apply_event(message.event_id, message.detail_type, message.detail).value

    return process_bus_batch(event, context, apply, logger=logger, metrics=metrics, name="InsightEvent")
