"""Build the Powertools resolver every API function uses: validation through the pydantic models,
the one error mapping, a request size limit and the caller's identity from the authorizer."""
from __future__ import annotations

import base64
import binascii
import json
import re
import warnings
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.shared.json_encoder import Encoder
from pydantic import BaseModel

from loyalty.platform.errors import (
    MalformedJson, PayloadTooLarge, Unauthorized, ValidationFailed, body_for, status_for,
)
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.errors import DomainError

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # deeper bodies are refused before parsing (no request of this API nests past 6)
# An invocation that records no business metric is normal; don't warn about it on every request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
logger = Logger(child=True)


def _dumps(data: Any) -> str:
    return json.dumps(data, cls=Encoder, ensure_ascii=False, separators=(",", ":"))


def error_response(error: DomainError) -> Response:
    return Response(status_code=status_for(error), content_type="application/json", body=_dumps(body_for(error)))


def _field_of(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _translate_validation(exc: RequestValidationError) -> DomainError:
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return MalformedJson("request body is not valid JSON")
    field = _field_of(tuple(first.get("loc", ())))
    message = first.get("msg", "invalid request")
    details = {"errors": [{"field": _field_of(tuple(err.get("loc", ()))), "message": err.get("msg")}
                          for err in errors[:10]]}
    return ValidationFailed(f"{field}: {message}" if field else message, field=field, details=details)


def build_app(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, serializer=_dumps)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError):
        logger.info("request refused", extra={"error_code": error.code, "error_field": error.field})
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError):
        error = _translate_validation(exc)
        logger.info("request invalid", extra={"error_code": error.code, "error_field": error.field})
        return error_response(error)

    return app


def api_handler(router: Router, logger: Logger, tracer: Any, metrics: Any,
                scopes: Mapping[str, Scope] | None = None):
    """An API function's app and Lambda entry point: Powertools logging with the request's correlation
    id, tracing and metrics around the body checks, the route's scope and routing. `scopes` maps
    "METHOD /path/{param}" (API Gateway's resource form) to the scope the route needs, checked before
    the body is validated. Returns (app, handler)."""
    app = build_app(router)
    route_scopes = dict(scopes or {})

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event, context):
        return resolve(app, event, context, route_scopes)

    return app, handler


def read_body(event: dict) -> DomainError | None:
    """Take the body as API Gateway delivers it (text, or base64 for what it did not see as text) and
    leave UTF-8 JSON text in the event; the error for a body that is too large, not UTF-8 or too deep."""
    body = event.get("body")
    if body is None:
        return None
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return MalformedJson("request body is not valid base64", field="body")
    else:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        return PayloadTooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return MalformedJson("request body is not UTF-8 text", field="body")
    event["body"], event["isBase64Encoded"] = text, False
    if json_depth(text) > MAX_JSON_DEPTH:
        return MalformedJson(f"request body nests deeper than {MAX_JSON_DEPTH} levels", field="body")
    return None


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def resolve(app: APIGatewayRestResolver, event: dict, context: Any,
            scopes: Mapping[str, Scope] | None = None) -> dict:
    """Entry point for every API function: the route's scope, the body as JSON text, then routing.

    The API speaks JSON only: a body sent without a JSON content type (curl's default is a form) is
    still read as JSON, so it is validated field by field, never parsed as form data."""
    try:
        required = (scopes or {}).get(f"{event.get('httpMethod')} {event.get('resource')}")
        if required is not None:
            _caller_of(event).require(required)
        refused = read_body(event)
    except DomainError as error:
        refused = error
    if refused is not None:
        logger.info("request refused", extra={"error_code": refused.code, "error_field": refused.field})
        response = error_response(refused)
        return _with_cors(event, {"statusCode": response.status_code, "headers": {"Content-Type": "application/json"},
                                  "body": response.body, "isBase64Encoded": False})
    _force_json_content_type(event)
    return _with_cors(event, app.resolve(event, context))


def _with_cors(event: dict, response: dict) -> dict:
    """A browser may read the answer when the request comes from an origin the stack allows (API
    Gateway answers the preflight itself; the function must name the origin on the real answer)."""
    from loyalty.platform.settings import ApiSettings, load_settings  # read on the first request

    headers = event.get("headers") or {}
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    if origin and origin in load_settings(ApiSettings).origins:
        response.setdefault("headers", {}).update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    return response


def _force_json_content_type(event: dict) -> None:
    if not event.get("body"):
        return
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    event["headers"] = headers
    if event.get("multiValueHeaders"):
        multi = {k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "content-type"}
        multi["Content-Type"] = ["application/json"]
        event["multiValueHeaders"] = multi


def caller(router: Router | APIGatewayRestResolver) -> ClientIdentity:
    """The client the authorizer identified; its context arrives on every request behind API Gateway."""
    return _caller_of(router.current_event.raw_event)


def _caller_of(event: dict) -> ClientIdentity:
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    if not context.get("client_id"):
        raise Unauthorized("no authenticated client on this request")
    return ClientIdentity.from_context(context)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer; a use case's result model is written as its `body()` (its OpenAPI schema)."""
    if isinstance(body, BaseModel):
        body = body.body() if hasattr(body, "body") else body.model_dump(mode="json")
    return Response(status_code=status, content_type="application/json", body=_dumps(body), headers=headers)
