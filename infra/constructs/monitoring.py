"""Monitoring: the topic operators subscribe to, the alarms that notify it, and a dashboard of the same
metrics. The thresholds are resources.MONITORING."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.function import METRICS_NAMESPACE, LoyaltyFunction
from infra.resources import MONITORING, STREAM_CONSUMERS, TABLE

RECONCILIATION_FUNCTION = "kpi_reconciliation"
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, stage: apigw.Stage,
                 functions: Mapping[str, LoyaltyFunction], table: dynamodb.ITable,
                 dead_letter_queues: Mapping[str, sqs.IQueue]) -> None:
        super().__init__(scope, construct_id)
        spec = MONITORING
        period = Duration.minutes(spec.period_minutes)
        self.topic = sns.Topic(self, "AlarmTopic", topic_name=spec.topic_name, display_name="Loyalty platform alarms",
                               master_key=key, enforce_ssl=True)
        self._let_alarms_publish(key)
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        # Alarms watch plain metrics (CloudWatch's single-metric form); the dashboard shows labelled copies.
        dead_letters = {name: queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum")
                        for name, queue in dead_letter_queues.items()}
        for name, metric in dead_letters.items():
            self._alarm(f"{_pascal(name)}Messages", metric, spec.dead_letter_messages, AT_LEAST,
                        name=spec.alarm_name(name, "messages"),
                        description=f"{name} holds messages its consumer gave up on. Find the cause in the "
                                    "consumer's logs and fix it; then redrive a queue's messages (README, "
                                    "Operations), or republish the stream records a stream consumer's messages name.")

        requests = stage.metric_count(period=period, statistic="Sum", label="requests")
        server_errors = stage.metric_server_error(period=period, statistic="Sum", label="5xx")
        error_rate = cloudwatch.MathExpression(expression="100 * errors / requests", period=period,
                                               using_metrics={"errors": server_errors, "requests": requests},
                                               label="5xx rate (%)")
        self._alarm("Api5xxRate", error_rate, spec.api_5xx_percent, ABOVE, name=spec.alarm_name("api", "5xx-rate"),
                    description=f"More than {spec.api_5xx_percent:g}% of API requests answered 5xx in "
                                f"{spec.period_minutes} minutes: see the functions' errors and the access logs.")
        latency = stage.metric_latency(period=period, statistic="p99")
        self._alarm("ApiP99Latency", latency, spec.api_p99_latency_ms, ABOVE, periods=spec.api_latency_periods,
                    name=spec.alarm_name("api", "p99-latency"),
                    description=f"The API's p99 latency exceeded {spec.api_p99_latency_ms} ms for "
                                f"{spec.api_latency_periods * spec.period_minutes} minutes.")

        # Function metrics on the function, not its alias: without a version or alias dimension they add up
        # every version, so they also count a superseded version finishing its work during a deploy.
        errors, throttles = [], []
        for name, fn in functions.items():
            errors.append(fn.function.metric_errors(period=period, statistic="Sum"))
            throttles.append(fn.function.metric_throttles(period=period, statistic="Sum"))
            self._alarm(f"{_pascal(name)}Errors", errors[-1], spec.function_errors, AT_LEAST,
                        name=spec.alarm_name(name, "errors"),
                        description=f"{name} failed (an unhandled error or a timeout): see its logs.")

        # Throttles come from the concurrency the functions share (none reserves its own), so one alarm on the
        # account's and region's Throttles watches them all; the dashboard shows which function it was.
        all_throttles = cloudwatch.Metric(namespace="AWS/Lambda", metric_name="Throttles", period=period,
                                          statistic="Sum")
        self._alarm("FunctionThrottles", all_throttles,
                    spec.function_throttles, AT_LEAST, name=spec.alarm_name("functions", "throttles"),
                    description="Lambda throttled a function: the account's concurrency in this region is used up "
                                "(the dashboard's function throttles say which); ask for a higher limit.")

        table_throttles, table_throttle_labels = [], []
        for index in (None, *TABLE.indexes):
            dimensions = {"TableName": table.table_name}
            if index is not None:
                dimensions["GlobalSecondaryIndexName"] = index.name
            where = "table" if index is None else f"table-{index.name}"
            for operation, metric_name in (("read", "ReadThrottleEvents"), ("write", "WriteThrottleEvents")):
                metric = cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name=metric_name, dimensions_map=dimensions,
                                           period=period, statistic="Sum")
                table_throttles.append(metric)
                table_throttle_labels.append(f"{'table' if index is None else index.name} {operation}s")
                self._alarm(f"{_pascal(where)}{operation.title()}Throttles", metric, spec.table_throttle_events,
                            AT_LEAST, name=spec.alarm_name(where, operation, "throttles"),
                            description=f"DynamoDB throttled {operation}s on the "
                                        f"{'table' if index is None else f'index {index.name}'}: a hot "
                                        "partition, or traffic above twice its previous peak.")

        iterator_ages = []
        for consumer in STREAM_CONSUMERS:
            iterator_ages.append(functions[consumer.function].function.metric(
                "IteratorAge", period=period, statistic="Maximum"))
            self._alarm(f"{_pascal(consumer.function)}IteratorAge", iterator_ages[-1],
                        spec.stream_iterator_age_seconds * 1000, ABOVE,
                        name=spec.alarm_name(consumer.function, "iterator-age"),
                        description=f"{consumer.function} is more than {spec.stream_iterator_age_seconds} s behind "
                                    f"the table's stream: {consumer.when_behind} (the stream keeps 24 hours).")

        # The books disagreed with themselves: the reconciliation's own metric (Powertools, service = function).
        drift = cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name="ReconciliationDrift",
                                  dimensions_map={"service": RECONCILIATION_FUNCTION}, period=period,
                                  statistic="Sum")
        self._alarm("ReconciliationDrift", drift, spec.reconciliation_drift, AT_LEAST,
                    name=spec.alarm_name("reconciliation", "drift"),
                    description="The daily reconciliation found books that disagree with themselves: GET "
                                "/v1/reports/reconciliation?date= lists each drift with both values; find the "
                                "cause before anything is corrected by hand (README, Operations).")

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=spec.dashboard_name,
                                              default_interval=Duration.hours(3))
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=6))
        self.dashboard.add_widgets(
            _graph("API requests and 5xx rate (%)", [requests], right=[error_rate], right_limit=spec.api_5xx_percent),
            _graph("API p99 latency (ms)", [latency.with_(label="p99")], limit=spec.api_p99_latency_ms),
        )
        self.dashboard.add_widgets(
            _graph("Function errors", _labelled(errors, functions)),
            _graph("Function throttles", [all_throttles.with_(label="account (alarm)"),
                                          *_labelled(throttles, functions)]),
        )
        self.dashboard.add_widgets(
            _graph("Dead-letter queue messages", _labelled(dead_letters.values(), dead_letters), width=8),
            _graph("Table throttle events", _labelled(table_throttles, table_throttle_labels), width=8),
            _graph("Stream iterator age (ms)", _labelled(iterator_ages, [c.function for c in STREAM_CONSUMERS]),
                   width=8, limit=spec.stream_iterator_age_seconds * 1000),
        )
        self.dashboard.add_widgets(_graph("Reconciliation drift", [drift.with_(label="drifts found")],
                                          limit=spec.reconciliation_drift, width=24))

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, threshold: float,
               comparison: cloudwatch.ComparisonOperator, *, name: str, description: str, periods: int = 1) -> None:
        alarm = cloudwatch.Alarm(
            self, construct_id, alarm_name=name, alarm_description=description, metric=metric, threshold=threshold,
            comparison_operator=comparison, evaluation_periods=periods, datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)

    def _let_alarms_publish(self, key: kms.IKey) -> None:
        """CloudWatch publishes alarm notifications as itself, so the topic's policy (which enforce_ssl
        replaces, default statement included) and the key's policy must let it. Both only for alarms of
        this account named with the prefix. An AWS-managed key would not do: its policy cannot grant this."""
        stack = Stack.of(self)
        alarms = stack.format_arn(service="cloudwatch", resource="alarm", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                  resource_name=f"{MONITORING.name_prefix}-*")
        conditions = {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": alarms}}
        cloudwatch_service = iam.ServicePrincipal(CLOUDWATCH_SERVICE)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsPublish", principals=[cloudwatch_service], actions=["sns:Publish"],
            resources=[self.topic.topic_arn], conditions=conditions))
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsEncryptNotifications", principals=[cloudwatch_service],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"], conditions=conditions))


def _graph(title: str, left: list[cloudwatch.IMetric], *, right: list[cloudwatch.IMetric] | None = None,
           limit: float | None = None, right_limit: float | None = None, width: int = 12) -> cloudwatch.GraphWidget:
    def line(value: float | None) -> list[cloudwatch.HorizontalAnnotation] | None:
        return [cloudwatch.HorizontalAnnotation(value=value, label="alarm")] if value is not None else None

    return cloudwatch.GraphWidget(title=title, left=left, right=right or [], left_annotations=line(limit),
                                  right_annotations=line(right_limit), width=width, height=6)


def _labelled(metrics: Iterable[cloudwatch.Metric], labels: Iterable[str]) -> list[cloudwatch.IMetric]:
    return [metric.with_(label=label) for metric, label in zip(metrics, labels, strict=True)]


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))
