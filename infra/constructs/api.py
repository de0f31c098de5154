"""The API: the REST API and its stage, the key authorizer, request validation, the gateway's own error
responses, CORS preflight for the browser origins, and the web firewall."""
from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from infra.constructs.stable_ids import StackLevel, StackWithStableIds
from infra.function import LoyaltyFunction
from infra.resources import (
    API_KEY_HEADER, AUTHORIZER, AUTHORIZER_CACHE_SECONDS, CORS, FUNCTIONS, GATEWAY_RESPONSES, gateway_error_body,
)

# A gateway response cannot pick one of several allowed origins as the preflight does: it echoes the
# caller's. Browsers send the API key header only after a preflight that allowed their origin, and these
# bodies are the fixed error messages of resources.GATEWAY_RESPONSES.
GATEWAY_RESPONSE_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "method.request.header.Origin",
    "Vary": "'Origin'",
}


class Api(StackLevel):
    def __init__(self, scope: StackWithStableIds, construct_id: str, *, functions: Mapping[str, LoyaltyFunction],
                 throttle_rate: int, throttle_burst: int) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.THREE_MONTHS,
                                    removal_policy=RemovalPolicy.RETAIN)
        # No query strings, bodies or headers in access logs: they can carry personal data.
        access_format = apigw.AccessLogFormat.custom(json.dumps({
            "requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
            "time": "$context.requestTime", "method": "$context.httpMethod", "resource": "$context.resourcePath",
            "status": "$context.status", "latencyMs": "$context.responseLatency",
            "client": "$context.authorizer.client_id", "error": "$context.error.messageString",
        }))
        self.rest_api = apigw.RestApi(
            self, "Api", rest_api_name="loyalty-api",
            description="Loyalty platform API for POS, webshops, apps and back-office tools",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name="v1", tracing_enabled=True, metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                throttling_rate_limit=throttle_rate, throttling_burst_limit=throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs), access_log_format=access_format,
            ),
            # API Gateway answers browsers' preflight requests itself (a mock integration, no function).
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(CORS.allow_origins), allow_methods=list(CORS.allow_methods),
                allow_headers=list(CORS.allow_headers), max_age=Duration.seconds(CORS.max_age_seconds),
            ) if CORS.allow_origins else None,
        )
        authorizer = apigw.RequestAuthorizer(
            self, "ApiKeyAuthorizer", handler=functions[AUTHORIZER.name].alias,
            identity_sources=[apigw.IdentitySource.header(API_KEY_HEADER)],
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )
        # Bodies are validated by the functions' pydantic models (one error shape, naming the field).
        validator = self.rest_api.add_request_validator("RequestValidator", validate_request_parameters=True,
                                                        validate_request_body=True)
        for spec in FUNCTIONS:
            if not spec.routes:
                continue
            alias = functions[spec.name].alias
            integration = _proxy_integration(alias)
            # One permission per function for the API's routes, instead of LambdaIntegration's two per
            # method (with and without the stage): 50 routes took the stack past CloudFormation's 500
            # resources. API Gateway invokes only through the routes defined here.
            alias.add_permission("ApiInvoke", principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                                 source_arn=self.rest_api.arn_for_execute_api("*", "/*", "*"))
            for route in spec.routes:
                self.rest_api.root.resource_for_path(route.path).add_method(
                    route.method, integration, authorizer=authorizer,
                    authorization_type=apigw.AuthorizationType.CUSTOM, request_validator=validator,
                    request_parameters={f"method.request.header.{API_KEY_HEADER}": True},
                )
        for response_type, (status, _code, _message) in GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                f"{response_type.title().replace('_', '')}Response", type=apigw.ResponseType.of(response_type),
                status_code=str(status), templates={"application/json": gateway_error_body(response_type)},
                response_headers=GATEWAY_RESPONSE_CORS_HEADERS if CORS.allow_origins else None,
            )
        self._waf()

    @property
    def stage(self) -> apigw.Stage:
        return self.rest_api.deployment_stage

    def _waf(self) -> None:
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
                                   resource_arn=self.stage.stage_arn)


def _proxy_integration(alias) -> apigw.Integration:
    """A Lambda proxy integration of the function's `live` alias that adds no permission of its own."""
    uri = Stack.of(alias).format_arn(service="apigateway", account="lambda",
                                     resource="path/2015-03-31/functions", resource_name=f"{alias.function_arn}/invocations",
                                     arn_format=ArnFormat.SLASH_RESOURCE_NAME)
    return apigw.Integration(type=apigw.IntegrationType.AWS_PROXY, integration_http_method="POST", uri=uri)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                    sampled_requests_enabled=True)
