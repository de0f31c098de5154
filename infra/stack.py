"""The platform's stack: one table, the event bus, queues, the REST API with its authorizer, the
functions, their schedules and the table's stream consumers, all built from infra/resources.py."""
from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.function import LoyaltyFunction
from infra.resources import (
    API_KEY_HEADER, AUTHORIZER, AUTHORIZER_CACHE_SECONDS, EVENT_BUS_NAME, FUNCTIONS, GATEWAY_RESPONSES, QUEUES,
    SCHEDULES, STREAM_CONSUMERS, TABLE, StreamConsumerSpec, env, gateway_error_body,
)

ROOT = Path(__file__).resolve().parent.parent
DEPS_LAYER_DIR = ROOT / ".build/layers/deps"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


class LoyaltyStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        context = self.node.try_get_context
        retention = logs.RetentionDays(_retention_name(int(context("loyalty:logRetentionDays") or 90)))

        self.key = kms.Key(self, "DataKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                           description="Encrypts the loyalty table and queues")
        self.table = self._table()
        self.bus = events.EventBus(self, "Bus", event_bus_name=EVENT_BUS_NAME)
        self.bus.archive("BusArchive", event_pattern=events.EventPattern(source=events.Match.prefix("loyalty")),
                         retention=Duration.days(30), description="Replayable history of domain events")
        self.queues = {q.logical_id: self._queue(q) for q in QUEUES}

        if not (DEPS_LAYER_DIR / "python").is_dir():
            raise FileNotFoundError(f"{DEPS_LAYER_DIR}/python is missing: run `make layers` before synth")
        layers = [
            lambda_.LayerVersion(self, "DependenciesLayer", code=lambda_.Code.from_asset(str(DEPS_LAYER_DIR)),
                                 compatible_runtimes=[_runtime()], compatible_architectures=[_arch()],
                                 description="Powertools, pydantic, boto3 (layers/deps/requirements.txt)"),
            lambda_.LayerVersion(self, "SharedCodeLayer",
                                 code=lambda_.Code.from_asset(str(ROOT / "layers/shared"), exclude=ASSET_EXCLUDES),
                                 compatible_runtimes=[_runtime()], compatible_architectures=[_arch()],
                                 description="The loyalty package: domain, use cases, adapters"),
        ]
        code = lambda_.Code.from_asset(str(ROOT / "functions"), exclude=ASSET_EXCLUDES)
        queue_urls = {logical_id: queue.queue_url for logical_id, queue in self.queues.items()}
        self.functions: dict[str, LoyaltyFunction] = {}
        for spec in FUNCTIONS:
            environment = env.function_environment(
                table_name=self.table.table_name, event_bus_name=self.bus.event_bus_name,
                default_country_code=str(context("loyalty:defaultCountryCode") or "86"),
                queue_urls=queue_urls, sends_to=spec.sends_to)
            fn = LoyaltyFunction(self, spec, code=code, layers=layers, environment=environment,
                                 log_retention=retention)
            self._grant(fn)
            self.functions[spec.name] = fn
        for queue in QUEUES:
            self.functions[queue.consumer].function.add_event_source(sources.SqsEventSource(
                self.queues[queue.logical_id], batch_size=queue.batch_size, report_batch_item_failures=True,
                max_batching_window=Duration.seconds(1)))
        for consumer in STREAM_CONSUMERS:
            self._stream_consumer(consumer)
        for schedule in SCHEDULES:
            events.Rule(self, f"{schedule.logical_id}Schedule", description=schedule.description,
                        schedule=events.Schedule.rate(Duration.minutes(schedule.rate_minutes)),
                        targets=[targets.LambdaFunction(self.functions[schedule.function].function, retry_attempts=2)])
        self.api = self._api(int(context("loyalty:apiThrottleRate") or 200), int(context("loyalty:apiThrottleBurst") or 400))
        self._suppressions()

    # -- data -------------------------------------------------------------------------------------
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
                                             sort_key=attr(index.sort_key), projection_type=dynamodb.ProjectionType.ALL)
        return table

    def _queue(self, spec) -> sqs.Queue:
        dlq = sqs.Queue(self, f"{spec.logical_id}DLQ", queue_name=spec.dlq_name, retention_period=Duration.days(14),
                        encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.key, enforce_ssl=True)
        return sqs.Queue(self, spec.logical_id, queue_name=spec.name,
                         visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
                         retention_period=Duration.days(4), encryption=sqs.QueueEncryption.KMS,
                         encryption_master_key=self.key, enforce_ssl=True,
                         dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count))

    def _stream_consumer(self, spec: StreamConsumerSpec) -> None:
        dlq = sqs.Queue(self, f"{spec.logical_id}DLQ", queue_name=spec.dlq_name, retention_period=Duration.days(14),
                        encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.key, enforce_ssl=True)
        self.functions[spec.function].function.add_event_source(sources.DynamoEventSource(
            self.table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=spec.batch_size,
            retry_attempts=spec.max_retries, bisect_batch_on_error=True, report_batch_item_failures=True,
            on_failure=sources.SqsDlq(dlq),
            # Only new items of the entity invoke the function (and are billed); the rest is skipped.
            filters=[lambda_.FilterCriteria.filter({
                "eventName": lambda_.FilterRule.is_equal("INSERT"),
                "dynamodb": {"NewImage": {"entity": {"S": lambda_.FilterRule.is_equal(spec.entity)}}},
            })]))

    def _grant(self, fn: LoyaltyFunction) -> None:
        spec = fn.spec
        if spec.table_access == "read":
            self.table.grant_read_data(fn.function)
        elif spec.table_access == "write":
            self.table.grant_read_write_data(fn.function)
        if spec.publishes_events:
            self.bus.grant_put_events_to(fn.function)
        for queue_id in spec.sends_to:
            self.queues[queue_id].grant_send_messages(fn.function)

    # -- API --------------------------------------------------------------------------------------
    def _api(self, rate: int, burst: int) -> apigw.RestApi:
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.THREE_MONTHS,
                                    removal_policy=RemovalPolicy.RETAIN)
        # No query strings, bodies or headers in access logs: they can carry personal data.
        access_format = apigw.AccessLogFormat.custom(json.dumps({
            "requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
            "time": "$context.requestTime", "method": "$context.httpMethod", "resource": "$context.resourcePath",
            "status": "$context.status", "latencyMs": "$context.responseLatency",
            "client": "$context.authorizer.client_id", "error": "$context.error.messageString",
        }))
        api = apigw.RestApi(
            self, "Api", rest_api_name="loyalty-api",
            description="Loyalty platform API for POS, webshops, apps and back-office tools",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name="v1", tracing_enabled=True, metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                throttling_rate_limit=rate, throttling_burst_limit=burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs), access_log_format=access_format,
            ),
        )
        authorizer = apigw.RequestAuthorizer(
            self, "ApiKeyAuthorizer", handler=self.functions[AUTHORIZER.name].function,
            identity_sources=[apigw.IdentitySource.header(API_KEY_HEADER)],
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )
        # Bodies are validated by the functions' pydantic models (one error shape, naming the field).
        validator = api.add_request_validator("RequestValidator", validate_request_parameters=True,
                                              validate_request_body=True)
        for spec in FUNCTIONS:
            integration = apigw.LambdaIntegration(self.functions[spec.name].function)
            for route in spec.routes:
                api.root.resource_for_path(route.path).add_method(
                    route.method, integration, authorizer=authorizer,
                    authorization_type=apigw.AuthorizationType.CUSTOM, request_validator=validator,
                    request_parameters={f"method.request.header.{API_KEY_HEADER}": True},
                )
        for response_type, (status, _code, _message) in GATEWAY_RESPONSES.items():
            api.add_gateway_response(
                f"{response_type.title().replace('_', '')}Response", type=apigw.ResponseType.of(response_type),
                status_code=str(status), templates={"application/json": gateway_error_body(response_type)},
            )
        self._waf(api)
        return api

    def _waf(self, api: apigw.RestApi) -> None:
        def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name)),
                visibility_config=_visibility(name),
            )

        acl = wafv2.CfnWebACL(
            self, "ApiFirewall", scope="REGIONAL", default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("loyalty-api"),
            rules=[
                managed("AWSManagedRulesCommonRuleSet", 1),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
                wafv2.CfnWebACL.RuleProperty(
                    name="RequestsPerAddress", priority=3, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=3000, aggregate_key_type="IP")),
                    visibility_config=_visibility("RequestsPerAddress"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(self, "ApiFirewallAssociation", web_acl_arn=acl.attr_arn,
                                   resource_arn=api.deployment_stage.stage_arn)

    # -- cdk-nag ----------------------------------------------------------------------------------
    def _suppressions(self) -> None:
        NagSuppressions.add_stack_suppressions(self, [
            {"id": "AwsSolutions-IAM4", "reason": "Lambda and API Gateway service roles use AWS's basic execution and "
             "CloudWatch-logs push managed policies, which grant only log writes.",
             "appliesTo": ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                           "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]},
            {"id": "AwsSolutions-IAM5", "reason": "Wildcards come from CDK grants scoped to this table's own indexes "
             "(index/*), KMS data-key actions on the one key (GenerateDataKey*, ReEncrypt*), X-Ray trace "
             "segments and the stream read grant's dynamodb:ListStreams, which have no resource-level permissions.",
             "appliesTo": [f"Resource::<{self.get_logical_id(self.table.node.default_child)}.Arn>/index/*", "Resource::*", "Action::kms:ReEncrypt*",
                           "Action::kms:GenerateDataKey*"]},
            {"id": "AwsSolutions-COG4", "reason": "Clients are machines (POS terminals, webshops, back-office tools) "
             "authenticated by hashed API keys through the request authorizer, not Cognito users."},
            {"id": "AwsSolutions-APIG3", "reason": "A WAFv2 web ACL is associated with the stage (ApiFirewallAssociation); "
             "the rule cannot see associations made by a separate resource."},
        ])
        for queue in QUEUES:
            NagSuppressions.add_resource_suppressions(self.node.find_child(f"{queue.logical_id}DLQ"), [
                {"id": "AwsSolutions-SQS3", "reason": "This queue is itself the dead-letter queue."}])
        for consumer in STREAM_CONSUMERS:
            NagSuppressions.add_resource_suppressions(self.node.find_child(f"{consumer.logical_id}DLQ"), [
                {"id": "AwsSolutions-SQS3",
                 "reason": "This queue is itself the dead-letter queue of the stream consumer."}])


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                    sampled_requests_enabled=True)


def _runtime() -> lambda_.Runtime:
    from infra.function import RUNTIME

    return RUNTIME


def _arch() -> lambda_.Architecture:
    from infra.function import ARCHITECTURE

    return ARCHITECTURE


def _retention_name(days: int) -> str:
    names = {30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}
    return names.get(days, "THREE_MONTHS")
