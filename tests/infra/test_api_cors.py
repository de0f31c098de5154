"""CORS: API Gateway answers browsers' preflight requests for the origins in cdk.json, and its own
error responses carry the headers browsers need to read them."""
from __future__ import annotations

from infra.resources import CDK_CONTEXT, CORS, GATEWAY_RESPONSES


def _methods(template) -> list[dict]:
    return [m["Properties"] for m in template.find_resources("AWS::ApiGateway::Method").values()]


def test_cors_origins_come_from_cdk_json():
    assert CORS.allow_origins == tuple(CDK_CONTEXT["loyalty:corsAllowOrigins"])
    assert CORS.allow_origins == ("https://shop.example.com", "http://localhost:5173")


def test_every_resource_answers_preflight_for_the_configured_origins(synthesized):
    _, template = synthesized
    resources = set(template.find_resources("AWS::ApiGateway::Resource"))
    preflight = [m for m in _methods(template) if m["HttpMethod"] == "OPTIONS"]
    routed = {m["ResourceId"]["Ref"] for m in _methods(template) if m["HttpMethod"] != "OPTIONS"}
    answered = {m["ResourceId"]["Ref"] for m in preflight if "Ref" in m["ResourceId"]}
    assert routed <= answered and answered == resources
    assert len(preflight) == len(resources) + 1  # and the root
    first, *others = CORS.allow_origins
    for method in preflight:
        assert method["AuthorizationType"] == "NONE"
        integration = method["Integration"]
        assert integration["Type"] == "MOCK"
        [response] = integration["IntegrationResponses"]
        assert response["StatusCode"] == "204"
        assert response["ResponseParameters"] == {
            "method.response.header.Access-Control-Allow-Origin": f"'{first}'",
            "method.response.header.Access-Control-Allow-Methods": f"'{','.join(CORS.allow_methods)}'",
            "method.response.header.Access-Control-Allow-Headers": f"'{','.join(CORS.allow_headers)}'",
            "method.response.header.Access-Control-Max-Age": f"'{CORS.max_age_seconds}'",
            "method.response.header.Vary": "'Origin'",
        }
        # The other origins get their own origin back (the first is the static default).
        template_text = response["ResponseTemplates"]["application/json"]
        for origin in others:
            assert f'$origin == "{origin}"' in template_text
        assert "Access-Control-Allow-Origin = $origin" in template_text
        assert "X-Api-Key" in response["ResponseParameters"]["method.response.header.Access-Control-Allow-Headers"]


def test_gateway_error_responses_carry_cors_headers(synthesized):
    _, template = synthesized
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in template.find_resources("AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == set(GATEWAY_RESPONSES)
    for response_type, props in responses.items():
        assert props["ResponseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
            "gatewayresponse.header.Vary": "'Origin'",
        }, response_type
