"""Starts the local run exactly as `make run` does (DynamoDB Local, moto server, gateway, pollers,
scheduler) once per test session, over a fresh data folder of its own, and talks HTTP to it."""
from __future__ import annotations

import os
import time

import pytest

from local.endpoints import DATA_DIR_VARIABLE
from tests.e2e.local_run import LocalRun, checkout_pythonpath


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    """The session's local run, over an empty data folder of its own (never the checkout's .local-data/).
    Operator commands run by the tests (`python -m ops.admin --local`) find it through the same variable."""
    data_dir = tmp_path_factory.mktemp("local-data")
    log = tmp_path_factory.mktemp("local-run") / "run.log"
    previous = {name: os.environ.get(name) for name in (DATA_DIR_VARIABLE, "PYTHONPATH")}
    os.environ.update({DATA_DIR_VARIABLE: str(data_dir), "PYTHONPATH": checkout_pythonpath()})
    run = LocalRun(data_dir, log)
    try:
        yield run.start()
    finally:
        run.stop()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_counter = iter(range(10_000_000))


@pytest.fixture
def phone():
    """A fresh, valid mainland mobile number per test (the local run lives for the whole session)."""
    return f"139{(int(time.time() * 1000) % 10_000_000 + next(_counter) * 7919) % 100_000_000:08d}"
