"""DynamoDB Streams consumer: puts each new outbox item on the event bus (the transactional outbox's relay).

The event source mapping already filters the stream to outbox INSERTs; anything else that reaches
the function is skipped as a success. Failures are reported per record (batchItemFailures): Lambda
retries from the first failed record, so the records after it may be published again; consumers
drop a redelivered event by its `event_id`. After the mapping's retries the batch goes to the DLQ."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from loyalty.platform.outbox import event_from_stream_record
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
# Report every failure in the response, even when all records fail: same retry effect, no noisy error.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    publisher = services().publisher

    def record_handler(record: DynamoDBRecord):
        try:
            domain_event = event_from_stream_record(record.raw_event)
        except Exception as error:
            # The item's keys and the error's type only: the image holds the detail.
            logger.warning("outbox item unreadable", extra={
                "sequence_number": record.dynamodb.sequence_number, "keys": record.dynamodb.keys,
                "error_type": type(error).__name__})
            metrics.add_metric(name="OutboxEventFailed", unit=MetricUnit.Count, value=1)
            raise
        if domain_event is None:
            return
        try:
            publisher.publish([domain_event])
        except Exception as error:
            # Ids and types only: the detail stays out of the logs.
            logger.warning("outbox event not relayed", extra={
                "event_id": domain_event.event_id, "detail_type": domain_event.detail_type,
                "sequence_number": record.dynamodb.sequence_number, "error_type": type(error).__name__})
            metrics.add_metric(name="OutboxEventFailed", unit=MetricUnit.Count, value=1)
            raise
        logger.info("outbox event relayed", extra={
            "event_id": domain_event.event_id, "detail_type": domain_event.detail_type})
        metrics.add_metric(name="OutboxEventRelayed", unit=MetricUnit.Count, value=1)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
