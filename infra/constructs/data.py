"""Data: the KMS key, the table, the event bus with its archive, and the queues with their dead-letter queues."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.stable_ids import StackLevel, StackWithStableIds
from infra.function import LoyaltyFunction
from infra.resources import EVENT_BUS_NAME, EXPORT_KEEP_DAYS, QUEUES, TABLE, QueueSpec

DEAD_LETTER_RETENTION = Duration.days(14)


def dead_letter_queue(scope: Construct, construct_id: str, name: str, key: kms.IKey) -> sqs.Queue:
    """A dead-letter queue (a queue's or a stream consumer's), kept 14 days, encrypted with the data key."""
    return sqs.Queue(scope, construct_id, queue_name=name, retention_period=DEAD_LETTER_RETENTION,
                     encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True)


class Data(StackLevel):
    def __init__(self, scope: StackWithStableIds, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "DataKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                           description="Encrypts the loyalty table and queues")
        self.table = self._table()
        self.bus = events.EventBus(self, "Bus", event_bus_name=EVENT_BUS_NAME)
        self.bus.archive("BusArchive", event_pattern=events.EventPattern(source=events.Match.prefix("loyalty")),
                         retention=Duration.days(30), description="Replayable history of domain events")
        self.dead_letter_queues: dict[str, sqs.Queue] = {}  # by the DLQ's name
        self._bus_may_encrypt = False
        self.queues = {spec.logical_id: self._queue(spec) for spec in QUEUES}
        # Members' data exports: encrypted with the data key, private, TLS only, gone after a week.
        self.export_bucket = s3.Bucket(
            self, "ExportBucket", encryption=s3.BucketEncryption.KMS, encryption_key=self.key,
            bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(EXPORT_KEEP_DAYS))],
            removal_policy=RemovalPolicy.RETAIN)

    def grant(self, fn: LoyaltyFunction) -> None:
        """What the function's spec says it uses, and nothing else."""
        spec = fn.spec
        if spec.table_access == "read":
            self.table.grant_read_data(fn.function)
        elif spec.table_access == "write":
            self.table.grant_read_write_data(fn.function)
        if spec.publishes_events:
            self.bus.grant_put_events_to(fn.function)
        for queue_id in spec.sends_to:
            self.queues[queue_id].grant_send_messages(fn.function)
        if spec.member_exports:  # exactly what an export needs: put, read for the link, delete on erasure
            fn.function.add_to_role_policy(iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                resources=[self.export_bucket.arn_for_objects("exports/*")]))
            self.key.grant_encrypt_decrypt(fn.function)

    def _table(self) -> dynamodb.Table:
        attr = lambda name: dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)  # noqa: E731
        table = dynamodb.Table(
            self, TABLE.logical_id,
            partition_key=attr(TABLE.partition_key), sort_key=attr(TABLE.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            time_to_live_attribute=TABLE.ttl_attribute,
            stream=dynamodb.StreamViewType.NEW_IMAGE,  # the outbox relay reads new items from it
        )
        for index in TABLE.indexes:
            table.add_global_secondary_index(index_name=index.name, partition_key=attr(index.partition_key),
                                             sort_key=attr(index.sort_key),
                                             projection_type=dynamodb.ProjectionType[index.projection])
        return table

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        dlq = dead_letter_queue(self, f"{spec.logical_id}DLQ", spec.dlq_name, self.key)
        self.dead_letter_queues[spec.dlq_name] = dlq
        queue = sqs.Queue(self, spec.logical_id, queue_name=spec.name,
                          visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
                          retention_period=Duration.days(4), encryption=sqs.QueueEncryption.KMS,
                          encryption_master_key=self.key, enforce_ssl=True,
                          dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count))
        if spec.subscribes_to:
            pattern = spec.event_pattern()
            events.Rule(self, f"{spec.logical_id}Subscription", event_bus=self.bus,
                        description=f"{', '.join(spec.subscribes_to)} to {spec.name}",
                        event_pattern=events.EventPattern(source=events.Match.prefix("loyalty"),
                                                          detail_type=pattern["detail-type"]),
                        targets=[targets.SqsQueue(queue)])
            if not self._bus_may_encrypt:  # EventBridge writes to the encrypted queues with the data key
                self.key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
                self._bus_may_encrypt = True
        return queue
