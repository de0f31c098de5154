"""Runs the functions as Lambda does: each worker process is a warm container with its own module
state, handling one invocation at a time; several containers run side by side."""
from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from infra.resources import FUNCTIONS, FunctionSpec, env

ROOT = Path(__file__).resolve().parent.parent
SEARCH_PATH = [str(ROOT / "functions"), str(ROOT / "layers/shared/python"), str(ROOT)]


@dataclass
class InvocationContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str
    invoked_function_arn: str
    _deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionError(Exception):
    """The function raised: Lambda reports an error instead of a result."""

    def __init__(self, error_type: str, message: str):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def _init_container(environment: dict[str, str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run; the run stops its containers
    os.environ.update(environment)
    for entry in reversed(SEARCH_PATH):
        if entry not in sys.path:
            sys.path.insert(0, entry)


def _invoke_in_container(function_name: str, event: dict) -> dict:
    spec = _spec(function_name)
    module_name, attribute = spec.handler.rsplit(".", 1)
    os.environ[env.SERVICE_NAME] = function_name
    handler = getattr(importlib.import_module(module_name), attribute)
    context = InvocationContext(
        function_name=f"loyalty-{function_name}", memory_limit_in_mb=spec.memory_mb,
        timeout_seconds=spec.timeout_seconds, aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:loyalty-{function_name}",
        _deadline=time.monotonic() + spec.timeout_seconds,
    )
    try:
        return {"result": handler(event, context)}
    except Exception as error:  # reported like Lambda's errorType/errorMessage
        traceback.print_exc()
        return {"error": {"errorType": type(error).__name__, "errorMessage": str(error)}}


def _spec(function_name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == function_name:
            return spec
    raise KeyError(f"no function named {function_name}")


class LambdaRuntime:
    def __init__(self, environment: dict[str, str], containers: int = 4):
        self._pool = ProcessPoolExecutor(
            max_workers=containers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_container, initargs=(environment,),
        )

    def invoke(self, function_name: str, event: dict):
        spec = _spec(function_name)
        future = self._pool.submit(_invoke_in_container, function_name, event)
        try:
            outcome = future.result(timeout=spec.timeout_seconds + 30)  # first call includes the cold start
        except FutureTimeout as error:
            raise FunctionError("Timeout", f"{function_name} ran longer than {spec.timeout_seconds}s") from error
        if "error" in outcome:
            raise FunctionError(outcome["error"]["errorType"], outcome["error"]["errorMessage"])
        return outcome["result"]

    def warm_up(self, function_name: str, count: int) -> None:
        """Import the function in every container now, so the first requests don't pay for it."""
        futures = [self._pool.submit(_import_only, function_name) for _ in range(count)]
        for future in futures:
            future.result(timeout=120)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _import_only(function_name: str) -> None:
    importlib.import_module(_spec(function_name).handler.rsplit(".", 1)[0])
