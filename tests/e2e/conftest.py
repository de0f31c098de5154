"""Starts the local run exactly as `make run` does (DynamoDB Local, moto server, gateway, pollers,
scheduler) once per test session, and talks HTTP to it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from local.demo import demo_key
from local.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


class Platform:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def key(self, client_id: str) -> str:
        return demo_key(client_id)

    def call(self, method: str, path: str, client: str | None = "pos-sh-jingan", json=None, headers=None,
             data=None) -> requests.Response:
        all_headers = dict(headers or {})
        if client is not None:
            all_headers["X-Api-Key"] = self.key(client)
        return self.http.request(method, self.base_url + path, json=json, data=data, headers=all_headers, timeout=60)


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("local-run") / "run.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(name, None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run", "--port", str(port), "--authorizer-cache-seconds", "0"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            pytest.fail(f"local run exited early:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(base_url + "/_local/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"local run did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    yield Platform(base_url)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


_counter = iter(range(10_000_000))


@pytest.fixture
def phone():
    """A fresh, valid mainland mobile number per test (the local run lives for the whole session)."""
    return f"139{(int(time.time() * 1000) % 10_000_000 + next(_counter) * 7919) % 100_000_000:08d}"
