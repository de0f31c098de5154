"""Splitting the stack into constructs by capability left the logical ids of what was deployed before
unchanged: a new id would make CloudFormation replace the table, queues, bus and API (whose names and
URL are fixed, so the replacement fails) and restart the event source mappings."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.constructs.stable_ids import StackWithStableIds, make_unique_id

# Logical ids before the split (stack id LoyaltyPlatform, as in infra/app.py). The event source
# mappings and the authorizer's permission are bound to the functions' aliases now (SnapStart), and keep
# these ids: CloudFormation updates a mapping in place and it keeps its position in the stream. The API's
# per-method invoke permissions are gone (one per function now, decision log 23): a permission has no
# name or state, so replacing them is free.
DEPLOYED = {
    "DataKey17AFBB84": "AWS::KMS::Key",
    "LoyaltyTable447B025A": "AWS::DynamoDB::Table",
    "BusEA82B648": "AWS::Events::EventBus",
    "BusBusArchive8D838428": "AWS::Events::Archive",
    "FeedbackQueueC15639F7": "AWS::SQS::Queue",
    "FeedbackQueueDLQ5EE55EA5": "AWS::SQS::Queue",
    "EventsRelayStreamDLQ9A1CCA1A": "AWS::SQS::Queue",
    "FeedbackProcessorFunctionSqsEventSourceLoyaltyPlatformFeedbackQueueB2E48D7E0791AB61": "AWS::Lambda::EventSourceMapping",
    "EventsRelayFunctionDynamoDBEventSourceLoyaltyPlatformLoyaltyTableAA3E4EA2710A0451": "AWS::Lambda::EventSourceMapping",
    "PointsActivationScheduleSchedule7C075933": "AWS::Events::Rule",
    "FeedbackOverdueScheduleScheduleC0387C64": "AWS::Events::Rule",
    "ApiF70053CD": "AWS::ApiGateway::RestApi",
    "ApiDeploymentStagev102147F91": "AWS::ApiGateway::Stage",
    "ApiAccessLogsE9DF007D": "AWS::Logs::LogGroup",
    "ApiKeyAuthorizerD0BEAC37": "AWS::ApiGateway::Authorizer",
    "Apiv1D42035C8": "AWS::ApiGateway::Resource",
    "Apiv1membersPOST6F570673": "AWS::ApiGateway::Method",
    "ApiUnauthorizedResponse767F4933": "AWS::ApiGateway::GatewayResponse",
    "ApiRequestValidator87B335BA": "AWS::ApiGateway::RequestValidator",
    "ApiFirewall": "AWS::WAFv2::WebACL",
    "ApiFirewallAssociation": "AWS::WAFv2::WebACLAssociation",
    "AuthorizerFunctionLoyaltyPlatformApiKeyAuthorizerD4E44CBAPermissions28D241DA": "AWS::Lambda::Permission",
    "MembersFunction962FDBB1": "AWS::Lambda::Function",
    "MembersFunctionLogs0DD67691": "AWS::Logs::LogGroup",
}


def test_deployed_resources_keep_their_logical_ids(synthesized):
    _, template = synthesized
    resources = template.to_json()["Resources"]
    assert {logical_id: resources.get(logical_id, {}).get("Type") for logical_id in DEPLOYED} == DEPLOYED
    assert "ApiEndpoint4F160690" in template.to_json()["Outputs"]


def test_new_constructs_carry_their_name_in_their_ids(synthesized):
    _, template = synthesized
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    assert topic_id.startswith("MonitoringAlarmTopic")


def test_unique_ids_are_cdks():
    app = cdk.App()
    stack = cdk.Stack(app, "Some-Stack")
    group = Construct(stack, "Group")
    elements = [cdk.CfnResource(group, "Default", type="Custom::Thing"),
                cdk.CfnResource(Construct(group, "Inner-Part"), "Resource", type="Custom::Thing"),
                cdk.CfnResource(Construct(Construct(group, "GroupGroup"), "Group"), "Thing", type="Custom::Thing"),
                cdk.CfnResource(stack, "TopLevel", type="Custom::Thing")]
    for element in elements:
        path = element.node.path.split("/")
        assert make_unique_id(path) == cdk.Names.unique_id(element)
        assert make_unique_id(path[1:]) == stack.resolve(element.logical_id)
    assert stack.resolve(elements[-1].logical_id) == "TopLevel"


def test_what_is_bound_to_an_alias_keeps_the_id_it_had_bound_to_the_function():
    app = cdk.App()
    stack = StackWithStableIds(app, "Stack")
    owner = Construct(stack, "MembersFunction")
    function, alias = Construct(owner, "Function"), Construct(owner, "Alias")
    alias_resource = cdk.CfnResource(alias, "Resource", type="Custom::Alias")
    mapping = cdk.CfnResource(Construct(alias, "SqsEventSource:Queue"), "Resource", type="Custom::Mapping")
    permission = cdk.CfnResource(alias, "Authorizer:Permissions", type="Custom::Permission")
    stack.keep_bound_ids(bound_to=alias, formerly=function)

    reference = cdk.Stack(app, "Reference")  # the same resources bound to the function, as CDK names them
    before = Construct(Construct(reference, "MembersFunction"), "Function")
    expected_mapping = cdk.CfnResource(Construct(before, "SqsEventSource:Queue"), "Resource", type="Custom::Mapping")
    expected_permission = cdk.CfnResource(before, "Authorizer:Permissions", type="Custom::Permission")
    assert stack.resolve(mapping.logical_id) == reference.resolve(expected_mapping.logical_id)
    assert stack.resolve(permission.logical_id) == reference.resolve(expected_permission.logical_id)
    # The alias's own resource is new and named as CDK names it.
    assert stack.resolve(alias_resource.logical_id) == make_unique_id(["MembersFunction", "Alias", "Resource"])
    assert stack.resolve(alias_resource.logical_id).startswith("MembersFunctionAlias")
