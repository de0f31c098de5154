"""A local stand-in for the REST API: HTTP requests become API Gateway proxy events, pass the same
authorizer (with API Gateway's result cache), and reach the same handlers."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from infra.resources import API_KEY_HEADER, GATEWAY_RESPONSES, gateway_error_body, routes
from local.lambdas import FunctionError, LambdaRuntime

STAGE = "v1"
API_ID = "localapi"
ACCOUNT = "000000000000"
MAX_GATEWAY_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit


class RouteTable:
    def __init__(self):
        self._routes = []
        # Literal segments win over {parameters}, as in API Gateway: /v1/feedback/config before /v1/feedback/{id}.
        for route, function in sorted(routes(), key=lambda pair: pair[0].path.count("{")):
            pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path) + "$"
            self._routes.append((route.method, re.compile(pattern), route.path, function.name))

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
                self._entries[key] = (time.monotonic() + self._ttl, policy)


class LocalGateway:
    def __init__(self, runtime: LambdaRuntime, authorizer_cache_seconds: int,
                 local_routes: dict[tuple[str, str], Callable[[dict, bytes], tuple[int, dict | list | str]]]):
        self.runtime = runtime
        self.table = RouteTable()
        self.cache = AuthorizerCache(authorizer_cache_seconds)
        self.local_routes = local_routes

    # -- one request ------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str):
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        local = self._local_route(method, path)
        if local is not None:
            status, payload = local({"path": path, "query": parse_qs(split.query)}, body)
            text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str)
            return status, {"Content-Type": "application/json"}, text.encode()
        if len(body) > MAX_GATEWAY_BODY:
            return self._gateway_response("REQUEST_TOO_LARGE")
        resource, function, path_params = self.table.match(method, path)
        if resource is None or resource == "METHOD_NOT_ALLOWED":
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN")
        event = self._proxy_event(method, path, resource, path_params, split.query, headers, body, source_ip)
        lowered = {k.lower(): v for k, v in headers.items()}
        api_key = lowered.get(API_KEY_HEADER.lower())
        if not api_key:
            return self._gateway_response("UNAUTHORIZED")  # identity source missing: authorizer not called
        policy = self.cache.get(api_key)
        if policy is None:
            try:
                policy = self.runtime.invoke("authorizer", self._authorizer_event(event, method, path))
            except FunctionError as error:
                if error.message == "Unauthorized":
                    return self._gateway_response("UNAUTHORIZED")
                return self._gateway_response("DEFAULT_5XX")
            self.cache.put(api_key, policy)
        if not _allows(policy):
            return self._gateway_response("ACCESS_DENIED")
        event["requestContext"]["authorizer"] = {**(policy.get("context") or {}), "principalId": policy["principalId"]}
        try:
            result = self.runtime.invoke(function, event)
        except FunctionError:
            return self._gateway_response("DEFAULT_5XX")
        return _http_response(result)

    def _local_route(self, method: str, path: str):
        """Routes of the local run itself (health, OpenAPI, invoke, schedules); exact or `/prefix/*`."""
        if (method, path) in self.local_routes:
            return self.local_routes[(method, path)]
        for (route_method, prefix), handler in self.local_routes.items():
            if route_method == method and prefix.endswith("/*") and path.startswith(prefix[:-1]):
                return handler
        return None

    # -- API Gateway's shapes ------------------------------------------------------------------------
    @staticmethod
    def _gateway_response(response_type: str):
        status = GATEWAY_RESPONSES[response_type][0]
        return status, {"Content-Type": "application/json"}, gateway_error_body(response_type).encode()

    @staticmethod
    def _proxy_event(method, path, resource, path_params, query, headers, body: bytes, source_ip) -> dict:
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
                "requestId": str(uuid.uuid4()),
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


def serve(gateway: LocalGateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = gateway.handle(self.command, self.path, dict(self.headers.items()), body,
                                                   self.client_address[0])
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, fmt, *args):  # access log without query strings (they may carry personal data)
            print(f"{self.command} {urlsplit(self.path).path} -> {args[1] if len(args) > 1 else ''}", flush=True)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
