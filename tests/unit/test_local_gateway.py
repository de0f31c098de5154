"""The local gateway (local/gateway.py) over a fake Lambda runtime: what it answers itself as API Gateway
does (unknown routes and methods, CORS preflight, its own errors), and its HTTP server under a burst."""
from __future__ import annotations

import json
import socket
import threading

import pytest

from infra.resources import CorsSpec
from local.gateway import LocalGateway, serve
from local.lambdas import FunctionError

ORIGIN = "https://shop.example.com"
CORS_SPEC = CorsSpec(allow_origins=(ORIGIN, "http://localhost:5173"), allow_methods=("GET", "POST", "OPTIONS"),
                     allow_headers=("Content-Type", "X-Api-Key"), max_age_seconds=300)
ROUTE_NOT_FOUND = {"error": {"code": "ROUTE_NOT_FOUND", "message": "no such route"}}


class FakeRuntime:
    """The authorizer allows the key "good" and refuses others; every other function echoes its name."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def invoke(self, function_name: str, event: dict):
        self.calls.append((function_name, event))
        if function_name == "authorizer":
            if event["headers"].get("X-Api-Key") != "good":
                raise FunctionError("Exception", "Unauthorized")
            return {"principalId": "pos-1", "context": {"client_id": "pos-1"},
                    "policyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["*"]}]}}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"function": function_name})}


def gateway(cors: CorsSpec = CORS_SPEC) -> tuple[LocalGateway, FakeRuntime]:
    runtime = FakeRuntime()
    local_routes = {("GET", "/_local/health"): lambda _request, _body: (200, {"status": "ok"})}
    return LocalGateway(runtime, authorizer_cache_seconds=0, local_routes=local_routes, cors=cors), runtime


def call(gw: LocalGateway, method: str, path: str, headers: dict | None = None, body: bytes = b""):
    status, response_headers, data = gw.handle(method, path, headers or {}, body, "127.0.0.1")
    return status, response_headers, data


@pytest.mark.parametrize("method, path", [
    ("OPTIONS", "/v1/nowhere"), ("TRACE", "/v1/members"), ("DELETE", "/v1/members"), ("PUT", "/v1/members/lookup"),
    ("BREW", "/v1/members/mbr_1"), ("GET", "/v1/nowhere"), ("POST", "/_local/health"),
])
def test_unknown_routes_and_methods_get_route_not_found_and_reach_no_function(method, path):
    gw, runtime = gateway()
    status, headers, data = call(gw, method, path, {"X-Api-Key": "good"})
    assert (status, headers["Content-Type"], json.loads(data)) == (404, "application/json", ROUTE_NOT_FOUND)
    assert runtime.calls == []


def test_without_cors_origins_an_options_request_is_just_a_method_the_route_lacks():
    gw, _runtime = gateway(CorsSpec(allow_origins=()))
    status, headers, data = call(gw, "OPTIONS", "/v1/members", {"Origin": ORIGIN})
    assert (status, json.loads(data)) == (404, ROUTE_NOT_FOUND)
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("path", ["/v1/members", "/v1/members/mbr_1/ledger", "/v1/feedback/config", "/v1"])
def test_a_preflight_is_answered_from_the_cors_spec_without_the_authorizer(path):
    gw, runtime = gateway()
    status, headers, data = call(gw, "OPTIONS", path, {"Origin": "http://localhost:5173",
                                                       "Access-Control-Request-Method": "POST"})
    assert (status, data) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type,X-Api-Key"
    assert headers["Access-Control-Max-Age"] == "300"
    assert headers["Vary"] == "Origin"
    assert runtime.calls == []


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.com.evil.example", None])
def test_a_preflight_from_another_origin_gets_no_allow_origin(origin):
    gw, _runtime = gateway()
    status, headers, _data = call(gw, "OPTIONS", "/v1/members", {"Origin": origin} if origin else {})
    assert status == 204
    assert "Access-Control-Allow-Origin" not in headers


def test_a_wildcard_origin_allows_any_origin():
    gw, _runtime = gateway(CorsSpec(allow_origins=("*",)))
    _status, headers, _data = call(gw, "OPTIONS", "/v1/members", {"Origin": "https://anyone.example"})
    assert headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method, path, headers, body, status", [
    ("POST", "/v1/members", {}, b"{}", 401),                               # no key: the authorizer is not called
    ("POST", "/v1/members", {"X-Api-Key": "wrong"}, b"{}", 401),           # the authorizer refuses
    ("GET", "/v1/nowhere", {"X-Api-Key": "good"}, b"", 404),
    ("POST", "/v1/members", {"X-Api-Key": "good"}, b"x" * (10 * 1024 * 1024 + 1), 413),
])
def test_the_gateways_own_errors_carry_allow_origin_only_for_allowed_origins(method, path, headers, body, status):
    gw, _runtime = gateway()
    allowed = call(gw, method, path, {**headers, "Origin": ORIGIN}, body)
    other = call(gw, method, path, {**headers, "Origin": "https://evil.example"}, body)
    assert allowed[0] == other[0] == status
    assert allowed[1]["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in other[1]
    assert json.loads(allowed[2])["error"]["code"] == json.loads(other[2])["error"]["code"]


def test_function_answers_pass_through_and_carry_the_request_id_the_function_saw():
    gw, runtime = gateway()
    status, headers, data = call(gw, "POST", "/v1/members/lookup", {"X-Api-Key": "good", "Origin": ORIGIN}, b"{}")
    assert (status, json.loads(data)) == (200, {"function": "members"})
    assert [name for name, _ in runtime.calls] == ["authorizer", "members"]
    assert headers["x-amzn-RequestId"] == runtime.calls[1][1]["requestContext"]["requestId"]
    # A proxy integration's answer is the function's own: CORS headers on it are the function's to add.
    assert "Access-Control-Allow-Origin" not in headers


# -- the HTTP server ---------------------------------------------------------------------------------

@pytest.fixture
def server():
    gw, _runtime = gateway()
    http = serve(gw, "127.0.0.1", 0)
    http.started = False
    yield http
    if http.started:  # shutdown() waits for a serve_forever() that was started
        http.shutdown()
    http.server_close()


def start(http) -> None:
    http.started = True
    threading.Thread(target=http.serve_forever, daemon=True).start()


def exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_connections_opened_at_once_wait_in_the_backlog_instead_of_being_dropped(server):
    port = server.server_address[1]
    clients = []
    try:
        # Nothing accepts yet: every connection must fit in the listen backlog (the standard library's
        # default of 5 would leave the sixth or seventh hanging, then reset).
        for _ in range(200):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        start(server)
        for sock in clients:
            sock.settimeout(30)
            status, _headers, body = exchange(sock, b"GET /_local/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (status, json.loads(body)) == (200, {"status": "ok"})
    finally:
        for sock in clients:
            sock.close()


@pytest.mark.parametrize("method", ["BREW", "TRACE", "OPTIONS", "DELETE", "CONNECT"])
def test_every_method_gets_the_gateways_json_answer_never_a_501_page(server, method):
    start(server)
    with socket.create_connection(server.server_address, timeout=10) as sock:
        status, headers, body = exchange(sock, f"{method} /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert (status, headers["content-type"], json.loads(body)) == (404, "application/json", ROUTE_NOT_FOUND)
        # the connection stays usable
        status, _headers, body = exchange(sock, b"GET /_local/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_head_gets_the_headers_of_the_answer_and_no_body(server):
    start(server)
    with socket.create_connection(server.server_address, timeout=10) as sock:
        sock.sendall(b"HEAD /v1/members HTTP/1.1\r\nHost: x\r\n\r\nGET /_local/health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
        first, _, second = data.partition(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 404") and b"Content-Length: 62" in first
        assert second.startswith(b"HTTP/1.1 200"), "the HEAD answer had no body before the next answer"


def test_a_malformed_request_gets_json_not_html(server):
    start(server)
    with socket.create_connection(server.server_address, timeout=10) as sock:
        status, headers, body = exchange(sock, b"GET /v1/members HTTP/1.1\r\nContent-Length: lots\r\n\r\n")
        assert (status, headers["content-type"]) == (400, "application/json")
        assert json.loads(body)["error"]["code"] == "BAD_REQUEST"
