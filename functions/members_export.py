"""SQS consumer of the export queue: each message asks for one member's data export, written page by
page into one JSON document and kept where the chain keeps exports (the bucket on AWS).

A message whose export failed is reported failed (batchItemFailures) and comes back after the visibility
timeout; after the queue's maxReceiveCount it goes to the dead-letter queue (alarmed). A redelivered
message of an export already done does nothing."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loyalty.kernel.errors import DomainError
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class ExportTask(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    member_id: str = Field(pattern=r"^mbr_[0-9A-Z]{26}$")
    export_id: str = Field(min_length=1, max_length=64)


class MalformedExportTask(ValueError):
    pass


def parse_task(body: str) -> ExportTask:
    try:
        return ExportTask.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        raise MalformedExportTask(f"not an export task; fields: {', '.join(fields)}") from None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    exports = services().member_exports

    def record_handler(record: SQSRecord):
        try:
            task = parse_task(record.body)
            done = exports.run(task.member_id, task.export_id)
            logger.info("member export", extra={"member_id": task.member_id, "export_id": task.export_id,
                                                "status": done.status if done else None,
                                                "size_bytes": done.size_bytes if done else None})
            metrics.add_metric(name="MemberExportsWritten", unit=MetricUnit.Count, value=1)
        except Exception as error:
            ours = isinstance(error, (DomainError, MalformedExportTask))
            logger.warning("member export failed", extra={
                "message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(error).__name__, "error": str(error) if ours else None})
            metrics.add_metric(name="MemberExportFailed", unit=MetricUnit.Count, value=1)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
