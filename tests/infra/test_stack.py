"""Template assertions on the properties that matter, and cdk-nag's verdict."""
from __future__ import annotations

import json

from aws_cdk.assertions import Annotations, Match

from infra.function import ALIAS_NAME
from infra.resources import (
    API_KEY_HEADER, AUTHORIZER_CACHE_SECONDS, FUNCTIONS, GATEWAY_RESPONSES, QUEUES, SCHEDULES, SETTLEMENT_SHARDS,
    STREAM_CONSUMERS, TABLE,
)
from loyalty.platform import environment as env
from loyalty.platform.settings import CoreSettings, FeedbackIntakeSettings, required_environment


def _functions(template) -> dict[str, dict]:
    """Lambda functions keyed by their Powertools service name (the spec's function name)."""
    found = template.find_resources("AWS::Lambda::Function")
    by_name = {}
    for resource in found.values():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        if env.SERVICE_NAME in variables:
            by_name[variables[env.SERVICE_NAME]] = resource["Properties"]
    return by_name


def _policy_statements(template, function_props) -> list[dict]:
    role_ref = function_props["Role"]["Fn::GetAtt"][0]
    return [statement for policy in template.find_resources("AWS::IAM::Policy").values()
            if {"Ref": role_ref} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def _policy_actions(template, function_props) -> set[str]:
    actions: set[str] = set()
    for statement in _policy_statements(template, function_props):
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def _logical_id(template, resource_type: str, **properties) -> str:
    [logical_id] = template.find_resources(resource_type, {"Properties": Match.object_like(properties)})
    return logical_id


def test_table_is_protected_encrypted_and_matches_the_spec(synthesized):
    _, template = synthesized
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "BillingMode": "PAY_PER_REQUEST",
            "DeletionProtectionEnabled": True,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "TimeToLiveSpecification": {"AttributeName": TABLE.ttl_attribute, "Enabled": True},
            "KeySchema": [{"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
                          {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"}],
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        }),
    })
    table = next(iter(template.find_resources("AWS::DynamoDB::Table").values()))
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
               for i in table["Properties"]["GlobalSecondaryIndexes"]}
    assert indexes == {i.name: [i.partition_key, i.sort_key] for i in TABLE.indexes}
    projections = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in table["Properties"]["GlobalSecondaryIndexes"]}
    # the expiry and tier review indexes: keys only
    assert projections == {"GSI1": "ALL", "GSI2": "ALL", "GSI3": "KEYS_ONLY", "GSI4": "KEYS_ONLY"}
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_every_function_shares_the_one_construct_settings(synthesized):
    _, template = synthesized
    functions = _functions(template)
    assert set(functions) == {spec.name for spec in FUNCTIONS}
    for name, props in functions.items():
        assert props["Runtime"] == "python3.14", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        assert len(props["Layers"]) == 2, name
        assert props["Environment"]["Variables"][env.METRICS_NAMESPACE] == "Loyalty"
    for group in template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"].get("RetentionInDays"), "every log group has a retention"


def test_environment_names_are_exactly_what_the_settings_read(synthesized):
    _, template = synthesized
    functions = _functions(template)
    core = required_environment(CoreSettings)
    for spec in FUNCTIONS:
        names = set(functions[spec.name]["Environment"]["Variables"])
        assert core <= names, spec.name
        queue_vars = {env.QUEUE_URLS[q.logical_id] for q in QUEUES if q.logical_id in spec.sends_to}
        assert queue_vars <= names, spec.name
    feedback_only = required_environment(FeedbackIntakeSettings) - core
    assert feedback_only == {env.FEEDBACK_QUEUE_URL}
    # Queues that functions send to have a URL variable; those the bus fills (subscriptions) need none.
    assert set(env.QUEUE_URLS) == {q.logical_id for q in QUEUES if not q.subscribes_to}


def test_each_function_gets_only_the_permissions_it_uses(synthesized):
    _, template = synthesized
    functions = _functions(template)
    for spec in FUNCTIONS:
        actions = _policy_actions(template, functions[spec.name])
        assert ("events:PutEvents" in actions) == spec.publishes_events, spec.name
        writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
        assert bool(actions & writes) == (spec.table_access == "write"), spec.name
        assert ("dynamodb:GetItem" in actions) == (spec.table_access in ("read", "write")), spec.name
        # A stream consumer sends the description of a batch it gave up on to its DLQ.
        dlq_sender = spec.name in {c.function for c in STREAM_CONSUMERS}
        assert ("sqs:SendMessage" in actions) == (bool(spec.sends_to) or dlq_sender), spec.name


def test_api_routes_all_pass_the_key_authorizer(synthesized):
    _, template = synthesized
    template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "REQUEST",
        "IdentitySource": f"method.request.header.{API_KEY_HEADER}",
        "AuthorizerResultTtlInSeconds": AUTHORIZER_CACHE_SECONDS,
    })
    methods = [m["Properties"] for m in template.find_resources("AWS::ApiGateway::Method").values()]
    routed = [m for m in methods if m["HttpMethod"] != "OPTIONS"]
    expected = sum(len(spec.routes) for spec in FUNCTIONS)
    assert len(routed) == expected
    assert all(m["AuthorizationType"] == "CUSTOM" for m in routed)


def test_stage_throttles_and_logs_without_personal_data(synthesized):
    _, template = synthesized
    stage = next(iter(template.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert stage["StageName"] == "v1"
    assert stage["TracingEnabled"] is True
    settings = stage["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False
    access_format = stage["AccessLogSetting"]["Format"]
    assert "$context.requestId" in access_format
    for leaky in ("querystring", "$input.body", "$context.identity.user"):
        assert leaky not in access_format
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in template.find_resources("AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == set(GATEWAY_RESPONSES)
    assert '"code":"UNAUTHORIZED"' in responses["UNAUTHORIZED"]["ResponseTemplates"]["application/json"]
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


def test_queues_have_dead_letter_queues_and_partial_batch_failures(synthesized):
    _, template = synthesized
    functions = _functions(template)
    all_mappings = list(template.find_resources("AWS::Lambda::EventSourceMapping").values())
    assert len(all_mappings) == len(QUEUES) + len(STREAM_CONSUMERS)
    mappings = [m for m in all_mappings if m["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == "Arn"]
    assert len(mappings) == len(QUEUES)
    for queue in QUEUES:
        template.has_resource_properties("AWS::SQS::Queue", {
            "QueueName": queue.name,
            "VisibilityTimeout": queue.visibility_timeout_seconds,
            "RedrivePolicy": Match.object_like({"maxReceiveCount": queue.max_receive_count}),
            "KmsMasterKeyId": Match.any_value(),
        })
        assert queue.visibility_timeout_seconds >= 6 * functions[queue.consumer]["Timeout"]
    for mapping in mappings:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def _stream_mapping(template, function: str) -> dict:
    """The table stream's event source mapping that invokes `function`, checked to be set up as every
    stream consumer is: from the trim horizon, partial batch failures, bisection, retries, then its DLQ."""
    table_id = _logical_id(template, "AWS::DynamoDB::Table")
    consumer = next(c for c in STREAM_CONSUMERS if c.function == function)
    dlq_id = _logical_id(template, "AWS::SQS::Queue", QueueName=consumer.dlq_name)
    function_id = next(k for k, v in template.find_resources("AWS::Lambda::Function").items()
                       if v["Properties"].get("Environment", {}).get("Variables", {}).get(env.SERVICE_NAME) == function)
    # It invokes the function's alias, named as mappings name one (tests/infra/test_snapstart.py).
    [alias_id] = [k for k, v in template.find_resources("AWS::Lambda::Alias").items()
                  if v["Properties"]["FunctionName"] == {"Ref": function_id}]
    alias = {"Fn::Join": ["", [{"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias_id}]}]}, f":{ALIAS_NAME}"]]}
    [mapping] = [m["Properties"] for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
                 and m["Properties"]["FunctionName"] == alias]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == consumer.batch_size
    assert mapping["MaximumRetryAttempts"] == consumer.max_retries
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    template.has_resource_properties("AWS::SQS::Queue", {
        "QueueName": consumer.dlq_name, "MessageRetentionPeriod": 14 * 24 * 3600, "KmsMasterKeyId": Match.any_value()})
    return mapping


def test_the_table_stream_has_two_readers_at_most(synthesized):
    """DynamoDB Streams serves at most two readers per shard at a time; a third mapping would be throttled."""
    _, template = synthesized
    table_id = _logical_id(template, "AWS::DynamoDB::Table")
    mappings = [m for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
                if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}]
    assert len(mappings) == len(STREAM_CONSUMERS) == 2


def test_outbox_items_reach_the_relay_from_the_table_stream(synthesized):
    _, template = synthesized
    consumer = STREAM_CONSUMERS[0]
    assert consumer.function == "events_relay" and consumer.entity == "outbox" and consumer.carries == "evt_type"
    mapping = _stream_mapping(template, "events_relay")
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"evt_type": {"S": [{"exists": True}]}}}},
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}},
    ]


def test_new_ledger_entries_reach_the_settlement_counter_from_the_table_stream(synthesized):
    _, template = synthesized
    mapping = _stream_mapping(template, "settlement_counter")
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["ledger_entry"]}}}}]
    functions = _functions(template)
    for name in ("settlement_counter", "settlement_report"):  # both read the same shard count
        assert functions[name]["Environment"]["Variables"][env.SETTLEMENT_SHARDS] == str(SETTLEMENT_SHARDS)
    assert all(env.SETTLEMENT_SHARDS not in props["Environment"]["Variables"]
               for name, props in functions.items() if not name.startswith("settlement_"))


def test_the_relay_reads_the_stream_and_puts_events_but_touches_no_items(synthesized):
    _, template = synthesized
    relay = _functions(template)["events_relay"]
    actions = _policy_actions(template, relay)
    assert {"events:PutEvents", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"} <= actions
    assert not {a for a in actions if a.startswith("dynamodb:")} - {
        "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"}
    assert "dynamodb:GetItem" not in actions and "dynamodb:PutItem" not in actions
    dlq_id = _logical_id(template, "AWS::SQS::Queue", QueueName=STREAM_CONSUMERS[0].dlq_name)
    for statement in _policy_statements(template, relay):
        if "sqs:SendMessage" in statement["Action"]:
            assert statement["Resource"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


def test_schedules_target_their_functions(synthesized):
    _, template = synthesized
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()
             if "ScheduleExpression" in r["Properties"]]
    expressions = sorted(r["ScheduleExpression"] for r in rules)
    expected = sorted(s.expression() for s in SCHEDULES)
    assert expressions == expected
    assert "cron(5 16 * * ? *)" in expressions  # the expiry job: 00:05 in Shanghai is 16:05 UTC


def test_the_expiry_job_runs_daily_and_fans_out_through_its_queue(synthesized):
    _, template = synthesized
    functions = _functions(template)
    [rule] = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()
              if r["Properties"].get("ScheduleExpression") == "cron(5 16 * * ? *)"]  # 00:05 in Shanghai
    # (that it invokes the function's alias is tests/infra/test_snapstart.py's)
    assert rule["Description"] == next(s.description for s in SCHEDULES if s.function == "points_expiry")
    queue_id = _logical_id(template, "AWS::SQS::Queue", QueueName="loyalty-points-expiry")
    dlq_id = _logical_id(template, "AWS::SQS::Queue", QueueName="loyalty-points-expiry-dlq")
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    [mapping] = [m["Properties"] for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for name in ("points_expiry", "points_expiry_worker"):  # the schedule hands out, a worker hands on
        sends = [st for st in _policy_statements(template, functions[name]) if "sqs:SendMessage" in st["Action"]]
        assert [st["Resource"] for st in sends] == [{"Fn::GetAtt": [queue_id, "Arn"]}], name
        assert functions[name]["Environment"]["Variables"][env.POINTS_EXPIRY_QUEUE_URL] == {"Ref": queue_id}
    assert "events:PutEvents" not in _policy_actions(template, functions["points_expiry_worker"])  # the outbox


def test_the_tier_review_runs_daily_and_may_query_the_due_index_and_write_the_table(synthesized):
    _, template = synthesized
    functions = _functions(template)
    [rule] = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()
              if r["Properties"].get("ScheduleExpression") == "cron(30 16 * * ? *)"]  # 00:30 in Shanghai
    assert rule["Description"] == next(s.description for s in SCHEDULES if s.logical_id == "TierReviewSchedule")
    [catch_up] = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()
                  if r["Properties"].get("ScheduleExpression") == "rate(1 hour)"]
    assert catch_up["Targets"][0]["Arn"] == rule["Targets"][0]["Arn"]  # the same function carries a run on
    review = functions["tier_review"]
    assert review["Timeout"] == 900
    actions = _policy_actions(template, review)
    assert {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem",
            "dynamodb:PutItem"} <= set(actions)
    resources = [st["Resource"] for st in _policy_statements(template, review) if "dynamodb:Query" in st["Action"]]
    assert any("/index/*" in str(resource) for resource in resources)  # GSI4
    assert "events:PutEvents" not in actions  # its events ride the outbox


def test_cdk_nag_reports_no_unsuppressed_errors(synthesized):
    stack, _ = synthesized
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert errors == [], "\n".join(str(e.entry.data) for e in errors)


def test_the_stack_stays_within_cloudformations_resource_limit(synthesized):
    """CloudFormation refuses a template of more than 500 resources: past it, `cdk deploy` fails outright."""
    _, template = synthesized
    count = len(template.to_json()["Resources"])
    assert count <= 500, f"{count} resources: move a capability (monitoring first) into a nested stack"
