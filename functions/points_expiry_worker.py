"""SQS consumer of the expiry queue: each message is one partition of the expiry index (a day and a
shard); every member in it has what is due expired (PointsExpired.v1) and what expires within the notice
days announced (PointsExpiringSoon.v1), each through the one ledger operation.

Out of time, a worker hands the rest of its partition on as a new message and reports its own as done.
A message whose members kept failing is reported failed (batchItemFailures) and comes back after the
visibility timeout; after the queue's maxReceiveCount it goes to the dead-letter queue (alarmed)."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from loyalty.kernel.errors import DomainError
from loyalty.platform.observability import make_tracer
from loyalty.points.ports import ExpiryTask
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

SAFETY_MARGIN_MS = 20_000  # stop taking members while there is still time to finish one and hand the rest on


class MalformedExpiryTask(ValueError):
    pass


class ExpiryTaskIncomplete(RuntimeError):
    """Some members of the partition could not be done; the message runs again."""


def parse_task(body: str) -> ExpiryTask:
    try:
        return ExpiryTask.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        raise MalformedExpiryTask(f"not an expiry task; fields: {', '.join(fields)}") from None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    expiry = services().points_expiry
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    should_continue = (lambda: remaining() > SAFETY_MARGIN_MS) if remaining else (lambda: True)

    def record_handler(record: SQSRecord):
        try:
            task = parse_task(record.body)
            run = expiry.run(task, should_continue=should_continue)
            logger.info("expiry task", extra={"message_id": record.message_id, **run.body()})
            metrics.add_metric(name="PointsExpiredMembers", unit=MetricUnit.Count, value=run.expired_members)
            metrics.add_metric(name="PointsExpired", unit=MetricUnit.Count, value=run.expired_points)
            metrics.add_metric(name="PointsExpiryNotices", unit=MetricUnit.Count, value=run.notices)
            if run.failed or run.incomplete:
                raise ExpiryTaskIncomplete(f"the partition {task.day.isoformat()}#{task.shard} was not finished "
                                           f"({run.failed} member(s) failed); the task runs again")
        except Exception as error:
            ours = isinstance(error, (DomainError, MalformedExpiryTask, ExpiryTaskIncomplete))
            logger.warning("expiry task failed", extra={
                "message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(error).__name__, "error": str(error) if ours else None})
            metrics.add_metric(name="PointsExpiryTaskFailed", unit=MetricUnit.Count, value=1)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
