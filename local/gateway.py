"""A local stand-in for the REST API: HTTP requests become API Gateway proxy events, pass the same
authorizer (with API Gateway's result cache), and reach the same handlers.

What API Gateway answers itself, the gateway answers the same way: an unknown route or a method a
route lacks gets the ROUTE_NOT_FOUND gateway response (API Gateway's MissingAuthenticationToken),
whatever the method; CORS preflight requests get the answer of the API's default preflight options
from infra/resources.py's CORS; and its own error answers carry Access-Control-Allow-Origin for an
allowed origin. Every answer carries the request id (x-amzn-RequestId), which the functions log as
their correlation id."""
from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from infra.resources import API_KEY_HEADER, CORS, GATEWAY_RESPONSES, CorsSpec, gateway_error_body, routes
from local.lambdas import FunctionError, LambdaRuntime

STAGE = "v1"
API_ID = "localapi"
ACCOUNT = "000000000000"
MAX_GATEWAY_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit


def _pattern(resource: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", resource) + "$")


class RouteTable:
    def __init__(self):
        self._routes = []
        # Literal segments win over {parameters}, as in API Gateway: /v1/feedback/config before /v1/feedback/{id}.
        for route, function in sorted(routes(), key=lambda pair: pair[0].path.count("{")):
            self._routes.append((route.method, _pattern(route.path), route.path, function.name))
        # Every resource of the API's tree, the routes' and their parents' (/v1, /v1/members/{member_id}, ...):
        # API Gateway's default preflight options give each of them an OPTIONS method.
        resources = set()
        for route, _function in routes():
            parts = route.path.strip("/").split("/")
            resources |= {"/" + "/".join(parts[:n]) for n in range(1, len(parts) + 1)}
        self._resources = [_pattern(resource) for resource in sorted(resources)]

    def is_resource(self, path: str) -> bool:
        return any(pattern.match(path) for pattern in self._resources)

    def match(self, method: str, path: str):
        path_matched = False
        for route_method, pattern, resource, function in self._routes:
            found = pattern.match(path)
            if found:
                path_matched = True
                if route_method == method:
                    return resource, function, found.groupdict() or None
        return ("METHOD_NOT_ALLOWED" if path_matched else None), None, None


class AuthorizerCache:
    """API Gateway caches an authorizer's answer per identity source (the key) for a TTL."""

    def __init__(self, ttl_seconds: int):
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        if self._ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] > time.monotonic():
                return entry[1]
        return None

    def put(self, key: str, policy: dict) -> None:
        if self._ttl > 0:
            with self._lock:
                now = time.monotonic()
                if len(self._entries) >= 1000:  # let go of expired answers rather than keep every key ever seen
                    self._entries = {k: entry for k, entry in self._entries.items() if entry[0] > now}
                self._entries[key] = (now + self._ttl, policy)


class LocalGateway:
    def __init__(self, runtime: LambdaRuntime, authorizer_cache_seconds: int,
                 local_routes: dict[tuple[str, str], Callable[[dict, bytes], tuple[int, dict | list | str]]],
                 cors: CorsSpec = CORS):
        self.runtime = runtime
        self.table = RouteTable()
        self.cache = AuthorizerCache(authorizer_cache_seconds)
        self.local_routes = local_routes
        self.cors = cors

    # -- one request ------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str):
        request_id = str(uuid.uuid4())
        status, response_headers, data = self._handle(method, raw_path, headers, body, source_ip, request_id)
        return status, {**response_headers, "x-amzn-RequestId": request_id}, data

    def _handle(self, method, raw_path, headers, body, source_ip, request_id):
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        local = self._local_route(method, path)
        if local is not None:
            status, payload = local({"path": path, "query": parse_qs(split.query)}, body)
            text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str)
            return status, {"Content-Type": "application/json"}, text.encode()
        lowered = {k.lower(): v for k, v in headers.items()}
        origin = lowered.get("origin")
        if method == "OPTIONS" and self.cors.allow_origins and self.table.is_resource(path):
            return self._preflight(origin)
        if len(body) > MAX_GATEWAY_BODY:
            return self._gateway_response("REQUEST_TOO_LARGE", origin)
        resource, function, path_params = self.table.match(method, path)
        if resource is None or resource == "METHOD_NOT_ALLOWED":
            # API Gateway: MissingAuthenticationToken (403) for any method a path lacks, mapped to ROUTE_NOT_FOUND
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", origin)
        event = self._proxy_event(method, path, resource, path_params, split.query, headers, body, source_ip,
                                  request_id)
        api_key = lowered.get(API_KEY_HEADER.lower())
        if not api_key:
            return self._gateway_response("UNAUTHORIZED", origin)  # identity source missing: authorizer not called
        policy = self.cache.get(api_key)
        if policy is None:
            try:
                policy = self.runtime.invoke("authorizer", self._authorizer_event(event, method, path))
            except FunctionError as error:
                if error.message == "Unauthorized":
                    return self._gateway_response("UNAUTHORIZED", origin)
                return self._gateway_response("DEFAULT_5XX", origin)
            self.cache.put(api_key, policy)
        if not _allows(policy):
            return self._gateway_response("ACCESS_DENIED", origin)
        event["requestContext"]["authorizer"] = {**(policy.get("context") or {}), "principalId": policy["principalId"]}
        try:
            result = self.runtime.invoke(function, event)
        except FunctionError:
            return self._gateway_response("DEFAULT_5XX", origin)
        return _http_response(result)

    # -- CORS, as API Gateway's default preflight options (a mock integration on every resource) ---------
    def allowed_origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.cors.allow_origins:
            return "*"
        return origin if origin in self.cors.allow_origins else None

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return {}
        return {"Access-Control-Allow-Origin": allowed, **({} if allowed == "*" else {"Vary": "Origin"})}

    def _preflight(self, origin: str | None):
        """204 with the allowed methods, headers and max age; the origin is echoed only when allowed."""
        headers = {
            "Access-Control-Allow-Methods": ",".join(self.cors.allow_methods),
            "Access-Control-Allow-Headers": ",".join(self.cors.allow_headers),
            "Access-Control-Max-Age": str(self.cors.max_age_seconds),
            **self._cors_headers(origin),
        }
        return 204, headers, b""

    def internal_error(self, origin: str | None = None):
        """What a request gets when the gateway itself fails (a bug here, not in a function)."""
        return self._gateway_response("DEFAULT_5XX", origin)

    def _local_route(self, method: str, path: str):
        """Routes of the local run itself (health, OpenAPI, invoke, schedules); exact or `/prefix/*`."""
        if (method, path) in self.local_routes:
            return self.local_routes[(method, path)]
        for (route_method, prefix), handler in self.local_routes.items():
            if route_method == method and prefix.endswith("/*") and path.startswith(prefix[:-1]):
                return handler
        return None

    # -- API Gateway's shapes ------------------------------------------------------------------------
    def _gateway_response(self, response_type: str, origin: str | None = None):
        status = GATEWAY_RESPONSES[response_type][0]
        headers = {"Content-Type": "application/json", **self._cors_headers(origin)}
        return status, headers, gateway_error_body(response_type).encode()

    @staticmethod
    def _proxy_event(method, path, resource, path_params, query, headers, body: bytes, source_ip,
                     request_id: str | None = None) -> dict:
        params = parse_qs(query, keep_blank_values=True)
        now = datetime.now(timezone.utc)
        try:
            text, encoded = body.decode(), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": dict(headers),
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
            "multiValueQueryStringParameters": params or None,
            "pathParameters": path_params,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": request_id or str(uuid.uuid4()),
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            },
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def _authorizer_event(event: dict, method: str, path: str) -> dict:
        return {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}",
            "resource": event["resource"],
            "path": path,
            "httpMethod": method,
            "headers": event["headers"],
            "multiValueHeaders": event["multiValueHeaders"],
            "queryStringParameters": event["queryStringParameters"],
            "pathParameters": event["pathParameters"],
            "stageVariables": None,
            "requestContext": {k: v for k, v in event["requestContext"].items() if k != "authorizer"},
        }


def _allows(policy: dict) -> bool:
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    return any(s.get("Effect") == "Allow" for s in statements) and not any(s.get("Effect") == "Deny" for s in statements)


def _http_response(result: dict):
    status = int(result.get("statusCode", 200))
    headers = {k: v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return status, headers, data


class GatewayServer(ThreadingHTTPServer):
    """One thread per connection; a listen backlog that holds a burst of clients connecting at once
    (the standard library's default of 5 makes the kernel drop or reset the rest)."""

    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True


def serve(gateway: LocalGateway, host: str, port: int) -> GatewayServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120  # an idle keep-alive connection lets its thread go after this long

        def __getattr__(self, name: str):
            # Every method reaches the gateway (which answers unknown ones as API Gateway does), never
            # the standard library's 501 page.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def _handle(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.send_error(400, "invalid Content-Length")
                return
            body = self.rfile.read(length) if length else b""
            try:
                status, headers, data = gateway.handle(self.command, self.path, dict(self.headers.items()), body,
                                                       self.client_address[0])
            except Exception:  # a bug in the gateway: answer like API Gateway's 5XX, keep the connection
                traceback.print_exc()
                status, headers, data = gateway.internal_error(self.headers.get("Origin"))
            self._send(status, headers, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes):
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the headers of the body, not the body
                self.wfile.write(data)

        def send_error(self, code, message=None, explain=None):
            """HTTP-level faults the standard library detects itself (a malformed request line, headers
            too long...): JSON in the platform's error shape rather than its HTML page."""
            try:
                name, default = HTTPStatus(code).name, HTTPStatus(code).phrase
            except ValueError:
                name, default = "BAD_REQUEST", "bad request"
            body = json.dumps({"error": {"code": name, "message": message or default}}).encode()
            self.log_error("code %d, message %s", code, message or default)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")  # also sets close_connection
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, fmt, *args):  # access log without query strings (they may carry personal data)
            # One write per line: many connection threads share the output.
            path = urlsplit(getattr(self, "path", "") or "").path
            sys.stdout.write(f"{self.command} {path} -> {args[1] if len(args) > 1 else ''}\n")
            sys.stdout.flush()

    return GatewayServer((host, port), Handler)
