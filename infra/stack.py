"""The platform's stack, composed from its capabilities (infra/constructs/): data, the functions, what
consumes queues, the stream and schedules, the API, and monitoring, all built from infra/resources.py.
Every cdk-nag suppression, with its reason, is here."""
from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.constructs import Api, Consumers, Data, Monitoring, StackWithStableIds
from infra.function import RECOGNIZE_LAYER_VERSION, LoyaltyFunction, function_code, shared_layers
from infra.resources import CORS, FUNCTIONS, SETTLEMENT_SHARDS, env


class LoyaltyStack(StackWithStableIds):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.node.set_context(RECOGNIZE_LAYER_VERSION, True)  # before any function (infra/function.py)
        context = self.node.try_get_context
        self.data = Data(self, "Data")
        self.functions = self._functions(
            default_country_code=str(context("loyalty:defaultCountryCode") or "86"),
            retention=logs.RetentionDays(_retention_name(int(context("loyalty:logRetentionDays") or 90))))
        self.consumers = Consumers(self, "Consumers", data=self.data, functions=self.functions)
        self.api = Api(self, "Api", functions=self.functions,
                       throttle_rate=int(context("loyalty:apiThrottleRate") or 200),
                       throttle_burst=int(context("loyalty:apiThrottleBurst") or 400))
        self.monitoring = Monitoring(
            self, "Monitoring", key=self.data.key, stage=self.api.stage, functions=self.functions,
            table=self.data.table,
            dead_letter_queues={**self.data.dead_letter_queues, **self.consumers.dead_letter_queues})
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn,
                  description="SNS topic every alarm notifies (and again when it clears): subscribe to it")
        self._suppressions()

    def _functions(self, *, default_country_code: str, retention: logs.RetentionDays) -> dict[str, LoyaltyFunction]:
        layers, code = shared_layers(self), function_code()
        queue_urls = {logical_id: queue.queue_url for logical_id, queue in self.data.queues.items()}
        functions: dict[str, LoyaltyFunction] = {}
        for spec in FUNCTIONS:
            environment = env.function_environment(
                table_name=self.data.table.table_name, event_bus_name=self.data.bus.event_bus_name,
                default_country_code=default_country_code, queue_urls=queue_urls, sends_to=spec.sends_to,
                inactivity_erasure_days=int(self.node.try_get_context("loyalty:inactivityErasureDays") or 0),
                cors_allow_origins=CORS.allow_origins if spec.routes else (),
                settlement_shards=SETTLEMENT_SHARDS if spec.settlement_counters else None,
                export_bucket=self.data.export_bucket.bucket_name if spec.member_exports else None)
            fn = LoyaltyFunction(self, spec, code=code, layers=layers, environment=environment,
                                 log_retention=retention)
            self.data.grant(fn)
            # Invokers bound to the alias keep the ids they had bound to the function (stable_ids.py).
            self.keep_bound_ids(bound_to=fn.alias, formerly=fn.function)
            functions[spec.name] = fn
        return functions

    # -- cdk-nag ----------------------------------------------------------------------------------
    def _suppressions(self) -> None:
        NagSuppressions.add_stack_suppressions(self, [
            {"id": "AwsSolutions-IAM4", "reason": "Lambda and API Gateway service roles use AWS's basic execution and "
             "CloudWatch-logs push managed policies, which grant only log writes.",
             "appliesTo": ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                           "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]},
            {"id": "AwsSolutions-IAM5", "reason": "Wildcards come from CDK grants scoped to this table's own indexes "
             "(index/*), the export bucket's exports/ prefix (one object per export, named at run time), KMS data-key actions on the one key (GenerateDataKey*, ReEncrypt*), X-Ray trace "
             "segments and the stream read grant's dynamodb:ListStreams, which have no resource-level permissions.",
             "appliesTo": [f"Resource::<{self.get_logical_id(self.data.table.node.default_child)}.Arn>/index/*",
                           f"Resource::<{self.get_logical_id(self.data.export_bucket.node.default_child)}.Arn>/exports/*",
                           "Resource::*", "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"]},
            {"id": "AwsSolutions-COG4", "reason": "Clients are machines (POS terminals, webshops, back-office tools) "
             "authenticated by hashed API keys through the request authorizer, not Cognito users."},
            {"id": "AwsSolutions-APIG3", "reason": "A WAFv2 web ACL is associated with the stage (ApiFirewallAssociation); "
             "the rule cannot see associations made by a separate resource."},
        ])
        NagSuppressions.add_resource_suppressions(self.data.export_bucket, [
            {"id": "AwsSolutions-S1", "reason": "Exports live a week and are read only through presigned links the "
             "platform hands out per request (logged by the members function); server access logs would keep "
             "a second trail of member ids beyond the exports' own life."}])
        for dlq in self.data.dead_letter_queues.values():
            NagSuppressions.add_resource_suppressions(dlq, [
                {"id": "AwsSolutions-SQS3", "reason": "This queue is itself the dead-letter queue."}])
        for dlq in self.consumers.dead_letter_queues.values():
            NagSuppressions.add_resource_suppressions(dlq, [
                {"id": "AwsSolutions-SQS3",
                 "reason": "This queue is itself the dead-letter queue of the stream consumer."}])


def _retention_name(days: int) -> str:
    names = {30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}
    return names.get(days, "THREE_MONTHS")
