"""A local run as the end-to-end tests drive it: `python -m local.run` over a data folder of its own,
its output in a log file, and an HTTP client for it."""
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
from local.endpoints import DATA_DIR_VARIABLE

ROOT = Path(__file__).resolve().parents[2]


def wait_for(check, timeout: float = 60.0, every: float = 0.5):
    """Poll `check` until it answers something truthy (what the asynchronous path delivered), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out")


class Platform:
    def __init__(self, base_url: str, log_path: Path | None = None):
        self.base_url = base_url
        self.log_path = log_path
        self.http = requests.Session()

    def key(self, client_id: str) -> str:
        return demo_key(client_id)

    def call(self, method: str, path: str, client: str | None = "pos-sh-jingan", json=None, headers=None,
             data=None) -> requests.Response:
        all_headers = dict(headers or {})
        if client is not None:
            all_headers["X-Api-Key"] = self.key(client)
        return self.http.request(method, self.base_url + path, json=json, data=data, headers=all_headers, timeout=60)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> list[str]:
        """The lines the run (gateway, pollers, every function's containers) wrote after `offset`."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace").splitlines()


def checkout_pythonpath() -> str:
    """This checkout's shared package and modules first, as pytest's own `pythonpath` puts them, so the
    processes the tests start run the code under test (not whatever the virtualenv's install points at)."""
    entries = [str(ROOT / "layers/shared/python"), str(ROOT)]
    return os.pathsep.join(entries + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                      if p and p not in entries])


class LocalRun:
    """One `python -m local.run` process over the data folder `data_dir`, its output in `log_path`."""

    def __init__(self, data_dir: Path, log_path: Path, *extra_args: str):
        self.data_dir, self.log_path, self.extra_args = data_dir, log_path, extra_args
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", DATA_DIR_VARIABLE: str(self.data_dir),
               "PYTHONPATH": checkout_pythonpath()}
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
            env.pop(name, None)
        return env

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "local.run", "--port", str(port), "--authorizer-cache-seconds", "0",
                *self.extra_args]

    def start(self, timeout: float = 120) -> Platform:
        port = free_port()
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.command(port), cwd=ROOT, env=self.environment(), stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"local run exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if requests.get(base_url + "/_local/health", timeout=2).status_code == 200:
                    return Platform(base_url, self.log_path)
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"local run did not start:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.5)

    def stop(self) -> int | None:
        """Ctrl-C, as a developer stops `make run`; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
