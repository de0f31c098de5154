"""SQS consumer: classify, route and store each feedback message once, then announce and reward it.

Failures are reported per message (batchItemFailures), so one bad message never fails its batch; a
message that keeps failing goes to the dead-letter queue after the queue's maxReceiveCount."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from loyalty.feedback.service import ProcessOutcome
from loyalty.kernel.errors import DomainError
from loyalty.feedback.domain import FeedbackMessage, Urgency
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
# Report every failure in the response, even when all records fail: same retry effect, no noisy error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_OUTCOME_METRIC = {ProcessOutcome.STORED: "FeedbackStored", ProcessOutcome.DUPLICATE: "FeedbackDuplicate",
                   ProcessOutcome.RESUMED: "FeedbackResumed"}


class MalformedFeedbackMessage(ValueError):
    """Names the offending fields only: pydantic's own message would echo the text into the logs."""


def parse_message(body: str) -> FeedbackMessage:
    try:
        return FeedbackMessage.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        raise MalformedFeedbackMessage(f"not a valid feedback message; fields: {', '.join(fields)}") from None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    service = services().feedback_processor
    config = service.current_config()  # once per batch: an edit applies from the next batch on

    def record_handler(record: SQSRecord):
        try:
            result = service.process(parse_message(record.body), config)
        except Exception as error:
            logger.warning("feedback message failed", extra={
                "message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(error).__name__,
                # Our own errors name ids and fields; others might echo the message's text.
                "error": str(error) if isinstance(error, (DomainError, MalformedFeedbackMessage)) else None})
            metrics.add_metric(name="FeedbackMessageFailed", unit=MetricUnit.Count, value=1)
            raise
        item = result.item
        logger.info("feedback processed", extra={
            "message_id": record.message_id, "feedback_id": item.feedback_id, "store_id": item.store_id,
            "member_id": item.member_id, "outcome": result.outcome.value, "primary_category": item.primary_category.value,
            "urgency": item.urgency.value, "department": item.department, "reward": result.reward})
        metrics.add_metric(name=_OUTCOME_METRIC[result.outcome], unit=MetricUnit.Count, value=1)
        if result.outcome == ProcessOutcome.STORED and item.urgency == Urgency.URGENT:
            metrics.add_metric(name="FeedbackEscalated", unit=MetricUnit.Count, value=1)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
