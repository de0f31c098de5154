"""The local run's Lambda containers (local/lambdas.py): one function per container, so every line a
function writes is attributed to it; refused API keys without a traceback; and the runner module, which
each container re-imports, stays light."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.gateway import LocalGateway
from loyalty.platform import environment as env
from local.lambdas import FunctionError, LambdaRuntime, PrefixedLines, is_authorizer_refusal

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_PATH = os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)])


def test_prefixed_lines_prefix_every_complete_line_and_hold_a_partial_one():
    read_end, write_end = os.pipe()
    try:
        stream = PrefixedLines("[members] ", write_end)
        assert stream.write('{"a": 1}\n{"b"') == len('{"a": 1}\n{"b"')
        stream.write(': 2}\nTraceback (most recent call last):\n  File "x"\n')
        stream.write("no end yet")
        stream.flush()
        os.close(write_end)
        write_end = None
        written = os.read(read_end, 65536).decode()
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)
    assert written.splitlines() == ['[members] {"a": 1}', '[members] {"b": 2}',
                                    "[members] Traceback (most recent call last):", '[members]   File "x"']


def test_only_the_authorizers_unauthorized_is_an_expected_refusal():
    assert is_authorizer_refusal("authorizer", Exception("Unauthorized"))
    assert not is_authorizer_refusal("authorizer", KeyError("table"))
    assert not is_authorizer_refusal("members", Exception("Unauthorized"))


def api_event(path: str, method: str = "GET", body: dict | None = None) -> dict:
    """A proxy event as the local gateway builds it, without an authorizer context: the API functions
    refuse it before touching the table, and log that they did."""
    raw = json.dumps(body).encode() if body is not None else b""
    return LocalGateway._proxy_event(method, path, path, None, "", {"Content-Type": "application/json"}, raw,
                                     "127.0.0.1")


@pytest.fixture
def runtime():
    environment = {
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        **env.function_environment(table_name="loyalty-main", event_bus_name="loyalty-bus",
                                   default_country_code="86", queue_urls={}, sends_to=()),
    }
    names = ("authorizer", "members", "program")
    # one container per function: were containers shared, all three would run in one process
    runtime = LambdaRuntime({name: {**environment, **env.powertools_environment(
        service_name=name, metrics_namespace="LoyaltyTests", tracing=False)} for name in names}, containers=1)
    yield runtime
    runtime.shutdown()


def log_records(output: str) -> list[tuple[str, dict]]:
    records = []
    for line in output.splitlines():
        prefix, _, text = line.partition("] ")
        if prefix.startswith("[") and text.startswith("{"):
            records.append((prefix[1:], json.loads(text)))
    return records


def test_each_functions_lines_carry_its_own_name_and_a_refused_key_no_traceback(runtime, capfd):
    for path, method, body in (("/v1/members/lookup", "POST", {"phone": "13812345678"}),
                               ("/v1/program/rules", "GET", None)) * 2:
        result = runtime.invoke("members" if path.startswith("/v1/members") else "program", api_event(path, method, body))
        assert result["statusCode"] == 401
    with pytest.raises(FunctionError) as refused:
        runtime.invoke("authorizer", {**api_event("/v1/members/lookup", "POST"), "type": "REQUEST",
                                      "methodArn": "arn:aws:execute-api:us-east-1:000000000000:localapi/v1/POST/v1/members/lookup"})
    assert (refused.value.error_type, refused.value.message) == ("Exception", "Unauthorized")

    captured = capfd.readouterr()  # the containers write to the run's own stdout and stderr
    records = log_records(captured.out)
    refusals = [(prefix, r["service"], r["function_name"]) for prefix, r in records if r.get("message") == "request refused"]
    assert refusals == [("members", "members", "loyalty-members"), ("program", "program", "loyalty-program")] * 2
    assert ("authorizer", "api key rejected") in [(prefix, r.get("message")) for prefix, r in records]
    assert "Traceback" not in captured.out + captured.err


def test_a_function_error_other_than_a_refusal_keeps_its_traceback(runtime, capfd):
    with pytest.raises(FunctionError):
        runtime.invoke("authorizer", {"not": "an authorizer event"})
    captured = capfd.readouterr()
    output = captured.out + captured.err
    assert "[authorizer] Traceback (most recent call last):" in output


def test_the_runner_module_loads_no_cdk_and_reads_the_stacks_metrics_namespace():
    """Every container re-imports local.run (multiprocessing's spawn); the CDK would start Node.js in each."""
    script = ("import sys, local.run as run; assert 'aws_cdk' not in sys.modules, 'local.run imports the CDK'; "
              "import infra.function as function; print(run.METRICS_NAMESPACE == function.METRICS_NAMESPACE)")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": CHECKOUT_PATH})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"
