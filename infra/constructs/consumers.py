"""Consumers: what runs functions besides the API. The queues' event sources, the table's stream
consumers with their dead-letter queues, and the schedules."""
from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

from infra.constructs.data import Data, dead_letter_queue
from infra.constructs.stable_ids import StackLevel, StackWithStableIds
from infra.function import LoyaltyFunction
from infra.resources import QUEUES, SCHEDULES, STREAM_CONSUMERS, ScheduleSpec, StreamConsumerSpec


def _schedule(spec: ScheduleSpec) -> events.Schedule:
    """Every N minutes, or daily at a time (rules' cron is UTC: the spec converts its zone's time)."""
    if spec.rate_minutes is not None:
        return events.Schedule.rate(Duration.minutes(spec.rate_minutes))
    at = spec.utc_time()
    if spec.day_of_month is not None:
        return events.Schedule.cron(minute=str(at.minute), hour=str(at.hour), day=spec.cron_day())
    return events.Schedule.cron(minute=str(at.minute), hour=str(at.hour))


class Consumers(StackLevel):
    def __init__(self, scope: StackWithStableIds, construct_id: str, *, data: Data,
                 functions: Mapping[str, LoyaltyFunction]) -> None:
        super().__init__(scope, construct_id)
        self._data = data
        self._functions = functions
        for queue in QUEUES:
            functions[queue.consumer].alias.add_event_source(sources.SqsEventSource(
                data.queues[queue.logical_id], batch_size=queue.batch_size, report_batch_item_failures=True,
                max_batching_window=Duration.seconds(1)))
        self.dead_letter_queues: dict[str, sqs.Queue] = {}  # by the DLQ's name
        for consumer in STREAM_CONSUMERS:
            self._stream_consumer(consumer)
        for schedule in SCHEDULES:
            events.Rule(self, f"{schedule.logical_id}Schedule", description=schedule.description,
                        schedule=_schedule(schedule),
                        targets=[targets.LambdaFunction(functions[schedule.function].alias, retry_attempts=2)])

    def _stream_consumer(self, spec: StreamConsumerSpec) -> None:
        dlq = dead_letter_queue(self, f"{spec.logical_id}DLQ", spec.dlq_name, self._data.key)
        self.dead_letter_queues[spec.dlq_name] = dlq
        self._functions[spec.function].alias.add_event_source(sources.DynamoEventSource(
            self._data.table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=spec.batch_size,
            retry_attempts=spec.max_retries, bisect_batch_on_error=True, report_batch_item_failures=True,
            on_failure=sources.SqsDlq(dlq),
            # Only the new items the function is for invoke it (and are billed); the rest is skipped.
            filters=stream_filters(spec)))


def stream_filters(spec: StreamConsumerSpec) -> list[dict]:
    """INSERTs whose new image carries the spec's attribute (an event riding on its item), if it names
    one, and INSERTs of the spec's entity: either passes."""
    filters = []
    if spec.carries is not None:
        filters.append(lambda_.FilterCriteria.filter({
            "eventName": lambda_.FilterRule.is_equal("INSERT"),
            "dynamodb": {"NewImage": {spec.carries: {"S": lambda_.FilterRule.exists()}}},
        }))
    filters.append(lambda_.FilterCriteria.filter({
        "eventName": lambda_.FilterRule.is_equal("INSERT"),
        "dynamodb": {"NewImage": {"entity": {"S": lambda_.FilterRule.is_equal(spec.entity)}}},
    }))
    return filters
