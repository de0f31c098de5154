"""The local gateway as clients meet it: bursts of connections, methods and routes it does not serve,
CORS preflight, and which function each log line of the run belongs to."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from infra.resources import CORS

pytestmark = pytest.mark.e2e

ALLOWED_ORIGIN = CORS.allow_origins[0]
OTHER_ORIGIN = "https://not-allowed.example.net"


def enrollment(phone: str) -> dict:
    return {"phone": phone, "name": "王芳", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}


def fresh_request(method: str, url: str, **kwargs) -> requests.Response:
    """One request on a connection of its own (no pooled keep-alive connection), as separate clients do."""
    with requests.Session() as session:
        return session.request(method, url, timeout=120, **kwargs)


def test_one_hundred_clients_enrolling_one_phone_at_the_same_moment_get_one_201_and_99_409(platform, phone):
    clients = 100
    barrier = threading.Barrier(clients, timeout=60)
    outcomes: list = [None] * clients

    def enroll(index: int) -> None:
        barrier.wait()  # every client opens its connection at the same moment
        try:
            outcomes[index] = fresh_request("POST", platform.base_url + "/v1/members", json=enrollment(phone),
                                            headers={"X-Api-Key": platform.key("pos-sh-jingan")})
        except requests.RequestException as error:  # a reset or refused connection
            outcomes[index] = error

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "some clients never got an answer"

    errors = [repr(o) for o in outcomes if not isinstance(o, requests.Response)]
    assert errors == [], f"{len(errors)} connection errors, first: {errors[:3]}"
    statuses = Counter(r.status_code for r in outcomes)
    assert statuses == {201: 1, 409: 99}, {s: n for s, n in statuses.items()}
    codes = Counter(r.json()["error"]["code"] for r in outcomes if r.status_code == 409)
    assert codes == {"PHONE_ALREADY_ENROLLED": 99}
    created = next(r for r in outcomes if r.status_code == 201).json()
    found = platform.call("POST", "/v1/members/lookup", json={"phone": phone})
    assert found.json()["member_id"] == created["member_id"]


def test_three_hundred_mixed_requests_from_forty_threads_all_get_answers(platform, phone):
    member = platform.call("POST", "/v1/members", json=enrollment(phone))
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    key = {"X-Api-Key": platform.key("pos-sh-jingan")}
    url = platform.base_url
    # (method, url, keyword arguments, expected status)
    kinds = [
        ("GET", f"{url}/v1/members/{member_id}", {"headers": key}, 200),
        ("POST", f"{url}/v1/members/lookup", {"headers": key, "json": {"phone": phone}}, 200),
        ("GET", f"{url}/v1/members/{member_id}/points", {"headers": key}, 200),
        ("POST", f"{url}/v1/members/lookup", {"headers": key, "json": {"phone": "13900000000"}}, 404),
        ("GET", f"{url}/_local/health", {}, 200),
        ("GET", f"{url}/v1/no-such-route", {"headers": key}, 404),
        ("POST", f"{url}/v1/members", {"json": enrollment(phone)}, 401),
        ("OPTIONS", f"{url}/v1/members", {"headers": {"Origin": ALLOWED_ORIGIN}}, 204),
    ]
    work = [kinds[i % len(kinds)] for i in range(300)]
    barrier = threading.Barrier(40, timeout=60)

    def send(item):
        method, target, kwargs, expected = item
        try:
            response = fresh_request(method, target, **kwargs)
            return method, target, expected, response.status_code
        except requests.RequestException as error:
            return method, target, expected, repr(error)

    def start_together(item):
        barrier.wait()
        return send(item)

    with ThreadPoolExecutor(max_workers=40) as pool:
        # The first 40 leave together, one per thread (each waits at the barrier, so each gets a thread
        # of its own); the other 260 follow as threads free up.
        first = list(pool.map(start_together, work[:40]))
        rest = list(pool.map(send, work[40:]))
    results = first + rest
    assert len(results) == 300
    connection_errors = [r for r in results if isinstance(r[3], str)]
    assert connection_errors == [], f"{len(connection_errors)} connection errors, first: {connection_errors[:3]}"
    wrong = [r for r in results if r[3] != r[2]]
    assert wrong == [], wrong[:5]


@pytest.mark.parametrize("method, path", [
    ("TRACE", "/v1/members"),                 # a method API Gateway never routes
    ("DELETE", "/v1/members"),                # a known path, a method it has none of
    ("PUT", "/v1/members/lookup"),
    ("DELETE", "/v1/members/mbr_01J0000000000000000000000A"),
    ("OPTIONS", "/v1/no-such-route"),         # a preflight for a path the API does not have
    ("OPTIONS", "/_local/health"),            # the local run's own routes have no preflight
    ("BREW", "/v1/members"),                  # not even an HTTP method
    ("GET", "/v1/no-such-route"),
    ("POST", "/v2/members"),
])
def test_unknown_methods_and_routes_answer_route_not_found_in_the_platforms_error_shape(platform, method, path):
    response = fresh_request(method, platform.base_url + path, headers={"X-Api-Key": platform.key("backoffice")})
    assert response.status_code == 404, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "ROUTE_NOT_FOUND", "message": "no such route"}}


def test_head_on_a_route_without_it_answers_404_headers_without_a_body(platform):
    response = fresh_request("HEAD", platform.base_url + "/v1/members")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b""
    after = platform.call("GET", "/_local/health", client=None)  # the connection's next answer is intact
    assert after.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/v1/members", "/v1/members/lookup", "/v1/members/mbr_X/purchases",
                                  "/v1/feedback/config", "/v1/reports/feedback", "/v1"])
def test_a_preflight_from_an_allowed_origin_gets_api_gateways_answer(platform, path):
    response = fresh_request("OPTIONS", platform.base_url + path, headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key"})
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert response.headers["Access-Control-Allow-Methods"].split(",") == list(CORS.allow_methods)
    assert response.headers["Access-Control-Allow-Headers"].split(",") == list(CORS.allow_headers)
    assert response.headers["Access-Control-Max-Age"] == str(CORS.max_age_seconds)
    assert "Origin" in response.headers.get("Vary", "")


def test_every_allowed_origin_is_echoed_and_no_other(platform):
    for origin in CORS.allow_origins:
        response = fresh_request("OPTIONS", platform.base_url + "/v1/members", headers={"Origin": origin})
        assert response.headers["Access-Control-Allow-Origin"] == origin
    other = fresh_request("OPTIONS", platform.base_url + "/v1/members", headers={"Origin": OTHER_ORIGIN})
    assert other.status_code == 204
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("origin, allowed", [(ALLOWED_ORIGIN, True), (OTHER_ORIGIN, False), (None, False)])
def test_the_gateways_own_errors_carry_allow_origin_for_allowed_origins(platform, phone, origin, allowed):
    headers = {"Origin": origin} if origin else {}
    missing_key = fresh_request("POST", platform.base_url + "/v1/members", json=enrollment(phone), headers=headers)
    wrong_key = fresh_request("POST", platform.base_url + "/v1/members", json=enrollment(phone),
                              headers={**headers, "X-Api-Key": "lk_demoshjingan_wrong-secret"})
    no_route = fresh_request("GET", platform.base_url + "/v1/no-such-route", headers=headers)
    for response, status in ((missing_key, 401), (wrong_key, 401), (no_route, 404)):
        assert response.status_code == status
        assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)


def wait_for_lines(platform, offset: int, found, timeout: float = 15.0) -> list[str]:
    """The log lines after `offset` once `found(lines)` holds (containers write as they run)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = platform.log_since(offset)
        if found(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def json_lines(lines: list[str]) -> list[tuple[str, dict]]:
    """(prefix, record) for each `[function] {json}` line."""
    parsed = []
    for line in lines:
        if line.startswith("[") and "] {" in line:
            prefix, _, text = line.partition("] ")
            try:
                parsed.append((prefix[1:], json.loads(text)))
            except ValueError:
                pass
    return parsed


def test_each_log_line_is_attributed_to_the_function_that_wrote_it(platform, phone):
    # Requests refused inside the functions: each function's shared error handling logs one line, with
    # the request id as correlation id. Interleaved, so any container state shared between functions shows.
    requests_by_function = {
        "members": ("POST", "/v1/members/lookup", "pos-sh-jingan", {"phone": "13900000001"}),
        "program": ("GET", "/v1/program/rules", "pos-sh-jingan", None),
        "feedback_intake": ("POST", "/v1/feedback", "pos-sh-jingan", {"feedback_id": "short"}),
        "points": ("GET", "/v1/members/mbr_01J0000000000000000000000A/points", "pos-sh-jingan", None),
        "feedback_staff": ("GET", "/v1/feedback", "pos-sh-jingan", None),
    }
    offset = platform.log_size()
    expected: dict[str, str] = {}  # request id -> function
    for _round in range(3):
        for function, (method, path, client, body) in requests_by_function.items():
            response = platform.call(method, path, client=client, json=body)
            assert 400 <= response.status_code < 500, (function, response.status_code, response.text)
            expected[response.headers["x-amzn-RequestId"]] = function

    def all_logged(lines):
        seen = {record.get("correlation_id") for _, record in json_lines(lines)}
        return set(expected) <= seen

    lines = wait_for_lines(platform, offset, all_logged)
    records = [(prefix, record) for prefix, record in json_lines(lines) if record.get("correlation_id") in expected]
    assert {r["correlation_id"] for _, r in records} == set(expected), "every request logged a line"
    for prefix, record in records:
        function = expected[record["correlation_id"]]
        assert (prefix, record["service"], record["function_name"]) == (function, function, f"loyalty-{function}"), \
            record


def test_a_refused_api_key_is_logged_by_the_authorizer_without_a_traceback(platform):
    offset = platform.log_size()
    refused = platform.call("POST", "/v1/members/lookup", client=None, json={"phone": "13900000002"},
                            headers={"X-Api-Key": "lk_demoshjingan_wrong-secret"})
    assert refused.status_code == 401

    def rejected(lines):
        return any(r.get("message") == "api key rejected" for _, r in json_lines(lines))

    lines = wait_for_lines(platform, offset, rejected)
    assert any(prefix == "authorizer" and r["service"] == "authorizer" and r["message"] == "api key rejected"
               for prefix, r in json_lines(lines)), lines
    time.sleep(0.5)  # anything the container would write after its answer
    lines = platform.log_since(offset)
    assert not [line for line in lines if "Traceback" in line or "Exception: Unauthorized" in line], lines
