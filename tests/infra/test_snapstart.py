"""SnapStart: every function snapshots its published versions, each deploy publishes one version behind
the alias `live`, and everything that invokes a function invokes that alias, never the unpublished
function ($LATEST, which has no snapshot): API methods, the authorizer, event source mappings, schedules
and every invoke permission. Alarms stay on the function (tests/infra/test_monitoring.py)."""
from __future__ import annotations

import pytest
from aws_cdk import FeatureFlags
from aws_cdk import aws_lambda as lambda_

from infra.function import ALIAS_NAME, ARCHITECTURE, RECOGNIZE_LAYER_VERSION, RUNTIME
from infra.resources import AUTHORIZER, FUNCTIONS, QUEUES, SCHEDULES, STREAM_CONSUMERS, env


@pytest.fixture(scope="module")
def resources(synthesized) -> dict[str, dict]:
    _, template = synthesized
    return template.to_json()["Resources"]


def _of_type(resources, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


def _function_ids(resources) -> dict[str, str]:
    """Function logical ids by the spec's name (the Powertools service name)."""
    return {v["Properties"]["Environment"]["Variables"][env.SERVICE_NAME]: k
            for k, v in _of_type(resources, "AWS::Lambda::Function").items()
            if env.SERVICE_NAME in v["Properties"].get("Environment", {}).get("Variables", {})}


def _alias_ids(resources) -> dict[str, str]:
    """Alias logical ids by the spec's name of the function they belong to."""
    by_function = {v["Properties"]["FunctionName"]["Ref"]: k
                   for k, v in _of_type(resources, "AWS::Lambda::Alias").items()}
    return {name: by_function[function_id] for name, function_id in _function_ids(resources).items()}


def _refs(value) -> set[str]:
    """Every logical id a template value refers to (Ref and Fn::GetAtt), however deeply nested."""
    if isinstance(value, dict):
        found = set()
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            else:
                found |= _refs(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _assert_invokes_alias_only(resources, value, function_name: str) -> None:
    alias_id = _alias_ids(resources)[function_name]
    lambda_ids = set(_of_type(resources, "AWS::Lambda::Function")) | set(_of_type(resources, "AWS::Lambda::Version")) \
        | set(_of_type(resources, "AWS::Lambda::Alias"))
    assert _refs(value) & lambda_ids == {alias_id}, (function_name, value)


def _qualified_name(alias_id: str) -> dict:
    """An alias as event source mappings name it: the function's name (taken from the alias ARN), then
    `:<alias>`."""
    return {"Fn::Join": ["", [{"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias_id}]}]}, f":{ALIAS_NAME}"]]}


def test_snapstart_supports_the_functions_runtime_in_this_cdk():
    assert RUNTIME.name == "python3.14" and ARCHITECTURE.name == "arm64"
    assert RUNTIME.supports_snap_start
    assert not lambda_.Runtime.PYTHON_3_11.supports_snap_start  # the flag means something


def test_every_function_snapshots_its_published_versions(resources):
    functions = _of_type(resources, "AWS::Lambda::Function")
    ids = _function_ids(resources)
    assert set(ids) == {spec.name for spec in FUNCTIONS}
    for name, function_id in ids.items():
        props = functions[function_id]["Properties"]
        assert props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, name
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"], name
        # SnapStart takes no EFS and at most 512 MB of /tmp.
        assert "FileSystemConfigs" not in props and props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512, name


def test_every_function_publishes_a_version_behind_the_live_alias(resources):
    ids = _function_ids(resources)
    versions = _of_type(resources, "AWS::Lambda::Version")
    aliases = _of_type(resources, "AWS::Lambda::Alias")
    assert len(versions) == len(aliases) == len(FUNCTIONS)
    for name, function_id in ids.items():
        [version_id] = [k for k, v in versions.items() if v["Properties"]["FunctionName"] == {"Ref": function_id}]
        [alias] = [v["Properties"] for v in aliases.values() if v["Properties"]["FunctionName"] == {"Ref": function_id}]
        assert alias["Name"] == ALIAS_NAME, name
        assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}, name
        # One version takes all the traffic, and no provisioned concurrency (SnapStart cannot have it).
        assert "RoutingConfig" not in alias and "ProvisionedConcurrencyConfig" not in alias, name
        # A superseded version (and its cached snapshot) goes once the alias has moved on.
        assert versions[version_id]["DeletionPolicy"] == "Delete", name
        assert versions[version_id]["UpdateReplacePolicy"] == "Delete", name


def test_a_new_layer_publishes_a_new_version(synthesized):
    """The version's logical id hashes the layers only with this flag; without it a deploy that changed
    nothing but the shared code layer would leave the alias on the old version, running the old code."""
    stack, _ = synthesized
    for fn in stack.functions.values():
        assert FeatureFlags.of(fn.function).is_enabled(RECOGNIZE_LAYER_VERSION), fn.spec.name


def test_every_api_route_invokes_its_functions_alias(resources):
    resources_by_id = _of_type(resources, "AWS::ApiGateway::Resource")

    def path(resource_ref: dict) -> str:
        if "Ref" not in resource_ref:  # the API's root
            return ""
        props = resources_by_id[resource_ref["Ref"]]["Properties"]
        return f"{path(props['ParentId'])}/{props['PathPart']}"

    methods = {(m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"])): m["Properties"]
               for m in _of_type(resources, "AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] != "OPTIONS"}
    routes = {(route.method, route.path): spec.name for spec in FUNCTIONS for route in spec.routes}
    assert set(methods) == set(routes)
    for route, name in routes.items():
        integration = methods[route]["Integration"]
        assert integration["Type"] == "AWS_PROXY", route
        assert integration["Uri"]["Fn::Join"][1][-1] == "/invocations", route
        _assert_invokes_alias_only(resources, integration["Uri"], name)


def test_the_authorizer_invokes_its_functions_alias(resources):
    [authorizer] = [v["Properties"] for v in _of_type(resources, "AWS::ApiGateway::Authorizer").values()]
    assert authorizer["Type"] == "REQUEST"
    _assert_invokes_alias_only(resources, authorizer["AuthorizerUri"], AUTHORIZER.name)


def test_every_event_source_mapping_invokes_its_functions_alias(resources):
    aliases = _alias_ids(resources)
    queue_ids = {v["Properties"]["QueueName"]: k for k, v in _of_type(resources, "AWS::SQS::Queue").items()}
    [table_id] = _of_type(resources, "AWS::DynamoDB::Table")
    expected = {(queue_ids[q.name], "Arn"): q.consumer for q in QUEUES}
    expected |= {(table_id, "StreamArn"): c.function for c in STREAM_CONSUMERS}
    mappings = {tuple(m["Properties"]["EventSourceArn"]["Fn::GetAtt"]): m["Properties"]
                for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()}
    assert set(mappings) == set(expected)
    for source, name in expected.items():
        assert mappings[source]["FunctionName"] == _qualified_name(aliases[name]), (source, name)


def test_every_schedule_invokes_its_functions_alias(resources):
    aliases = _alias_ids(resources)
    rules = {v["Properties"]["Description"]: v["Properties"] for v in _of_type(resources, "AWS::Events::Rule").values()
             if "ScheduleExpression" in v["Properties"]}
    assert set(rules) == {s.description for s in SCHEDULES}
    for schedule in SCHEDULES:
        [target] = rules[schedule.description]["Targets"]
        assert target["Arn"] == {"Ref": aliases[schedule.function]}, schedule.logical_id


def test_only_aliases_may_be_invoked(resources):
    """Every invoke permission (API routes and their test invocations, the authorizer, schedules) names an
    alias: nothing is allowed to invoke the unpublished function or a bare version."""
    aliases = [{"Ref": alias_id} for alias_id in _of_type(resources, "AWS::Lambda::Alias")]
    permissions = [v["Properties"] for v in _of_type(resources, "AWS::Lambda::Permission").values()]
    assert permissions
    for permission in permissions:
        assert permission["Action"] == "lambda:InvokeFunction"
        assert permission["FunctionName"] in aliases, permission
    principals = {p["Principal"] for p in permissions}
    assert principals == {"apigateway.amazonaws.com", "events.amazonaws.com"}
