"""Monitoring: one alarm per dead-letter queue, per function (errors), one on Lambda's throttles, per table or index
(read and write throttles) and per stream consumer (iterator age), two on the API (5xx rate, p99
latency), each on its metric with the threshold of resources.MONITORING and notifying the one topic;
and a dashboard of the same metrics."""
from __future__ import annotations

import json

import pytest

from infra.resources import FUNCTIONS, MONITORING, QUEUES, STREAM_CONSUMERS, TABLE, env

PERIOD_SECONDS = MONITORING.period_minutes * 60


@pytest.fixture(scope="module")
def resources(synthesized) -> dict[str, dict]:
    _, template = synthesized
    return template.to_json()["Resources"]


def _of_type(resources, resource_type: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == resource_type}


def _topic_id(resources) -> str:
    [topic_id] = _of_type(resources, "AWS::SNS::Topic")
    return topic_id


def _function_ids(resources) -> dict[str, str]:
    return {props["Environment"]["Variables"][env.SERVICE_NAME]: logical_id
            for logical_id, props in _of_type(resources, "AWS::Lambda::Function").items()
            if env.SERVICE_NAME in props.get("Environment", {}).get("Variables", {})}


def _queue_id(resources, name: str) -> str:
    [queue_id] = [k for k, props in _of_type(resources, "AWS::SQS::Queue").items() if props.get("QueueName") == name]
    return queue_id


def _alarm(resources, metric_name: str, dimensions: list[dict]) -> dict:
    found = [props for props in _of_type(resources, "AWS::CloudWatch::Alarm").values()
             if props.get("MetricName") == metric_name and props.get("Dimensions") == dimensions]
    assert len(found) == 1, f"{len(found)} {metric_name} alarms on {dimensions}"
    return found[0]


def _assert_alarm(alarm: dict, *, namespace: str, statistic: str, threshold: float, comparison: str,
                  topic_id: str, periods: int = 1) -> None:
    assert alarm["Namespace"] == namespace
    assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == statistic
    assert alarm["Period"] == PERIOD_SECONDS
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == comparison
    assert alarm["EvaluationPeriods"] == periods and alarm["DatapointsToAlarm"] == periods
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert alarm["OKActions"] == [{"Ref": topic_id}]


def _stage_dimensions(resources) -> list[dict]:
    [stage_id] = _of_type(resources, "AWS::ApiGateway::Stage")
    [api] = _of_type(resources, "AWS::ApiGateway::RestApi").values()
    return [{"Name": "ApiName", "Value": api["Name"]}, {"Name": "Stage", "Value": {"Ref": stage_id}}]


def test_alarm_topic_is_encrypted_with_the_data_key_takes_tls_only_and_is_an_output(synthesized, resources):
    _, template = synthesized
    topic_id = _topic_id(resources)
    [key_id] = _of_type(resources, "AWS::KMS::Key")
    topic = resources[topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert topic["TopicName"] == MONITORING.topic_name
    [policy] = _of_type(resources, "AWS::SNS::TopicPolicy").values()
    assert policy["Topics"] == [{"Ref": topic_id}]
    denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert [(s["Action"], s["Condition"], s["Principal"], s["Resource"]) for s in denies] == [
        ("sns:Publish", {"Bool": {"aws:SecureTransport": "false"}}, "*", {"Ref": topic_id})]
    template.has_output("AlarmTopicArn", {"Value": {"Ref": topic_id}})


def test_cloudwatch_may_publish_and_use_the_key_only_for_this_accounts_alarms(resources):
    topic_id = _topic_id(resources)
    [policy] = _of_type(resources, "AWS::SNS::TopicPolicy").values()
    [key] = _of_type(resources, "AWS::KMS::Key").values()
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    publish = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Principal") == cloudwatch]
    use_key = [s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == cloudwatch]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in publish] == [("Allow", "sns:Publish", {"Ref": topic_id})]
    assert [(s["Effect"], sorted(s["Action"])) for s in use_key] == [("Allow", ["kms:Decrypt", "kms:GenerateDataKey*"])]
    for statement in publish + use_key:
        conditions = statement["Condition"]
        assert conditions["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        parts = conditions["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
        arn = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
        assert arn == f"arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{MONITORING.name_prefix}-*"
    # ... which covers every alarm of the stack.
    names = [a["AlarmName"] for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()]
    assert names and all(name.startswith(f"{MONITORING.name_prefix}-") for name in names)
    assert len(set(names)) == len(names)


def test_every_dead_letter_queue_has_a_depth_alarm(resources):
    topic_id = _topic_id(resources)
    # The dead-letter queues as the template wires them: queues' redrive targets, mappings' on-failure destinations.
    wired = {q["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
             for q in _of_type(resources, "AWS::SQS::Queue").values() if "RedrivePolicy" in q}
    wired |= {m["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
              for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values() if "DestinationConfig" in m}
    names = [q.dlq_name for q in QUEUES] + [c.dlq_name for c in STREAM_CONSUMERS]
    assert wired == {_queue_id(resources, name) for name in names}
    for name in names:
        queue_id = _queue_id(resources, name)
        alarm = _alarm(resources, "ApproximateNumberOfMessagesVisible",
                       [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}])
        _assert_alarm(alarm, namespace="AWS/SQS", statistic="Maximum", threshold=MONITORING.dead_letter_messages,
                      comparison="GreaterThanOrEqualToThreshold", topic_id=topic_id)
        assert alarm["Threshold"] == 1


def test_api_5xx_rate_alarm_divides_5xx_errors_by_requests(resources):
    topic_id = _topic_id(resources)
    [alarm] = [a for a in _of_type(resources, "AWS::CloudWatch::Alarm").values() if "Metrics" in a]
    assert alarm["Threshold"] == MONITORING.api_5xx_percent == 1.0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id}]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    [expression] = [q for q in alarm["Metrics"] if "Expression" in q]
    assert expression["Expression"] == "100 * errors / requests" and expression["ReturnData"] is True
    for query_id, metric_name in (("errors", "5XXError"), ("requests", "Count")):
        stat = queries[query_id]["MetricStat"]
        assert queries[query_id]["ReturnData"] is False
        assert stat["Metric"] == {"Namespace": "AWS/ApiGateway", "MetricName": metric_name,
                                  "Dimensions": _stage_dimensions(resources)}
        assert stat["Stat"] == "Sum" and stat["Period"] == PERIOD_SECONDS


def test_api_latency_alarm_on_p99_over_consecutive_periods(resources):
    alarm = _alarm(resources, "Latency", _stage_dimensions(resources))
    assert "Statistic" not in alarm and alarm["ExtendedStatistic"] == "p99"
    _assert_alarm(alarm, namespace="AWS/ApiGateway", statistic="p99", threshold=MONITORING.api_p99_latency_ms,
                  comparison="GreaterThanThreshold", topic_id=_topic_id(resources),
                  periods=MONITORING.api_latency_periods)
    assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (2000, 3)


def test_every_function_has_an_errors_alarm_and_one_alarm_watches_their_throttles(resources):
    topic_id = _topic_id(resources)
    function_ids = _function_ids(resources)
    assert set(function_ids) == {spec.name for spec in FUNCTIONS}
    for spec in FUNCTIONS:
        alarm = _alarm(resources, "Errors", [{"Name": "FunctionName", "Value": {"Ref": function_ids[spec.name]}}])
        _assert_alarm(alarm, namespace="AWS/Lambda", statistic="Sum", threshold=MONITORING.function_errors,
                      comparison="GreaterThanOrEqualToThreshold", topic_id=topic_id)
        assert alarm["Threshold"] == 1, spec.name
    throttles = _alarm(resources, "Throttles", None)  # the functions share the account's concurrency
    _assert_alarm(throttles, namespace="AWS/Lambda", statistic="Sum", threshold=MONITORING.function_throttles,
                  comparison="GreaterThanOrEqualToThreshold", topic_id=topic_id)


def test_table_and_each_index_have_read_and_write_throttle_alarms(resources):
    topic_id = _topic_id(resources)
    [table_id] = _of_type(resources, "AWS::DynamoDB::Table")
    table = [{"Name": "TableName", "Value": {"Ref": table_id}}]
    targets = [table] + [[{"Name": "GlobalSecondaryIndexName", "Value": index.name}] + table for index in TABLE.indexes]
    assert len(targets) == 5  # the table, GSI1, GSI2, GSI3 and GSI4
    for dimensions in targets:
        for metric_name in ("ReadThrottleEvents", "WriteThrottleEvents"):
            alarm = _alarm(resources, metric_name, dimensions)
            _assert_alarm(alarm, namespace="AWS/DynamoDB", statistic="Sum", threshold=MONITORING.table_throttle_events,
                          comparison="GreaterThanOrEqualToThreshold", topic_id=topic_id)


def test_every_stream_consumer_has_an_iterator_age_alarm(resources):
    assert [c.function for c in STREAM_CONSUMERS] == ["events_relay", "settlement_counter"]
    for consumer in STREAM_CONSUMERS:
        function_id = _function_ids(resources)[consumer.function]
        alarm = _alarm(resources, "IteratorAge", [{"Name": "FunctionName", "Value": {"Ref": function_id}}])
        _assert_alarm(alarm, namespace="AWS/Lambda", statistic="Maximum",
                      threshold=MONITORING.stream_iterator_age_seconds * 1000, comparison="GreaterThanThreshold",
                      topic_id=_topic_id(resources))
        assert alarm["Threshold"] == 60_000  # milliseconds
        assert consumer.when_behind in alarm["AlarmDescription"]


def test_these_are_all_the_alarms(resources):
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    dead_letter_queues = len(QUEUES) + len(STREAM_CONSUMERS)
    expected = (dead_letter_queues + 2 + len(FUNCTIONS) + 1 + 2 * (1 + len(TABLE.indexes)) + len(STREAM_CONSUMERS)
                + 1)  # the reconciliation's drift
    assert len(alarms) == expected == 51


def _dashboard(resources) -> tuple[str, dict]:
    """The dashboard's name and body, with each token written as the logical id it refers to."""
    [dashboard] = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    parts = dashboard["DashboardBody"]["Fn::Join"][1]

    def text(part) -> str:
        if isinstance(part, str):
            return part
        return part["Ref"] if "Ref" in part else ".".join(part["Fn::GetAtt"])

    return dashboard["DashboardName"], json.loads("".join(text(p) for p in parts))


def _metric_key(namespace: str, metric_name: str, dimensions: dict, statistic: str) -> tuple:
    return namespace, metric_name, tuple(sorted(dimensions.items())), statistic


def test_drift_found_by_the_reconciliation_alarms(resources):
    alarm = _alarm(resources, "ReconciliationDrift", [{"Name": "service", "Value": "kpi_reconciliation"}])
    _assert_alarm(alarm, namespace="Loyalty", statistic="Sum", threshold=MONITORING.reconciliation_drift,
                  comparison="GreaterThanOrEqualToThreshold", topic_id=_topic_id(resources))


def test_dashboard_shows_every_alarm_and_the_alarms_metrics(resources):
    name, body = _dashboard(resources)
    assert name == MONITORING.dashboard_name
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    [status] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(status["properties"]["alarms"]) == sorted(f"{alarm_id}.Arn" for alarm_id in alarms)

    shown, expressions = set(), set()
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            options = line[-1]
            if "expression" in options:
                expressions.add(options["expression"])
                continue
            namespace, metric_name, *dims = line[:-1]
            shown.add(_metric_key(namespace, metric_name, dict(zip(dims[::2], dims[1::2])), options["stat"]))

    def token(value):
        return value["Ref"] if "Ref" in value else ".".join(value["Fn::GetAtt"]) if isinstance(value, dict) else value

    single = [a for a in alarms.values() if "MetricName" in a]
    assert len(single) == len(alarms) - 1
    for alarm in single:
        dims = {d["Name"]: token(d["Value"]) for d in alarm.get("Dimensions", [])}
        statistic = alarm.get("Statistic", alarm.get("ExtendedStatistic"))
        key = _metric_key(alarm["Namespace"], alarm["MetricName"], dims, statistic)
        assert key in shown, alarm["AlarmName"]
    assert "100 * errors / requests" in expressions
