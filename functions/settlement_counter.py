"""DynamoDB Streams consumer: adds each new ledger entry to the daily settlement counters, exactly once.

The event source mapping filters the stream to ledger entry INSERTs; anything else that reaches the
function is skipped as a success. Each entry is counted in one transaction with a marker naming it, so a
redelivered record (Lambda retries from the first failed record, and resends the ones after it) adds
nothing twice. Failures are reported per record (batchItemFailures); after the mapping's retries the
batch's description goes to the DLQ."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from loyalty.platform.observability import make_tracer
from loyalty.settlement.dynamo import ledger_fact
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
# Report every failure in the response, even when all records fail: same retry effect, no noisy error.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
METRIC_NAMES = {"counted": "SettlementEntryCounted", "already_counted": "SettlementEntryRedelivered",
                "nothing_to_count": "SettlementEntrySkipped"}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    counting = services().settlement_counting

    def record_handler(record: DynamoDBRecord):
        keys = record.raw_event.get("dynamodb", {}).get("Keys", {})
        where = {"entry_pk": keys.get("PK", {}).get("S"), "entry_sk": keys.get("SK", {}).get("S"),
                 "sequence_number": record.dynamodb.sequence_number if record.dynamodb else None}
        try:
            entry = ledger_fact(record.raw_event)
            if entry is None:
                return
            outcome = counting.count(entry)
        except Exception as error:
            logger.warning("ledger entry not counted", extra={**where, "error_type": type(error).__name__,
                                                              "error": str(error)[:200]})
            metrics.add_metric(name="SettlementEntryFailed", unit=MetricUnit.Count, value=1)
            raise
        logger.info("ledger entry " + outcome.value.replace("_", " "), extra={**where, "type": entry.type})
        metrics.add_metric(name=METRIC_NAMES[outcome.value], unit=MetricUnit.Count, value=1)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
