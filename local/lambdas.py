"""Runs the functions as Lambda does: each worker process is a warm container of ONE function, with
that function's environment and its own module state, handling one invocation at a time; several
containers of a function run side by side.

Containers are never shared between functions: Powertools loggers take their service name when
the module that creates them is imported, and the shared package's loggers are created once per
process, so a process that ran several functions would write one function's log lines under
another's name. Each line a container writes to stdout or stderr starts with `[function name]`,
the local stand-in for the function's own log group."""
from __future__ import annotations

import importlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from infra.resources import AUTHORIZER, FUNCTIONS, FunctionSpec

ROOT = Path(__file__).resolve().parent.parent
SEARCH_PATH = [str(ROOT / "functions"), str(ROOT / "layers/shared/python"), str(ROOT)]
COLD_START_SECONDS = 30  # a new container's first invocation also starts Python and imports the handler
QUEUE_SECONDS = 120      # how long an invocation waits for a free container of its function


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


class PrefixedLines(io.TextIOBase):
    """A text stream that writes each complete line to a file descriptor with a prefix, one write per
    line batch, so lines of containers writing to the same output never interleave mid-line."""

    def __init__(self, prefix: str, fd: int):
        super().__init__()
        self._prefix = prefix
        self._fd = fd
        self._partial = ""
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
            if lines:
                data = "".join(f"{self._prefix}{line}\n" for line in lines).encode("utf-8", "replace")
                while data:
                    data = data[os.write(self._fd, data):]
        return len(text)

    def flush(self) -> None:  # a partial line waits for its end, to be written whole
        pass


def _init_container(function_name: str, environment: Mapping[str, str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run; the run stops its containers
    os.environ.update(environment)
    for entry in reversed(SEARCH_PATH):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    # Before the handler is imported: Powertools loggers keep the stream they find at creation.
    sys.stdout = PrefixedLines(f"[{function_name}] ", sys.stdout.fileno())
    sys.stderr = PrefixedLines(f"[{function_name}] ", sys.stderr.fileno())


def _invoke_in_container(function_name: str, event: dict) -> dict:
    spec = _spec(function_name)
    module_name, attribute = spec.handler.rsplit(".", 1)
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
        if not is_authorizer_refusal(function_name, error):
            traceback.print_exc()
        return {"error": {"errorType": type(error).__name__, "errorMessage": str(error)}}


def is_authorizer_refusal(function_name: str, error: BaseException) -> bool:
    """A REQUEST authorizer refuses a key by raising "Unauthorized" (API Gateway then answers 401):
    an expected answer, already logged by the authorizer, not a failure worth a traceback."""
    return function_name == AUTHORIZER.name and str(error) == "Unauthorized"


def _spec(function_name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == function_name:
            return spec
    raise KeyError(f"no function named {function_name}")


class LambdaRuntime:
    """The containers of every function: `environments` holds each function's environment, as the
    stack gives it. A function's containers start when it is first invoked, up to `containers` side
    by side; an invocation waits (at most `queue_seconds`) for one of them to be free, and its
    timeout counts from when it gets one. Safe to call from many threads at once."""

    def __init__(self, environments: Mapping[str, Mapping[str, str]], containers: int = 4,
                 queue_seconds: float = QUEUE_SECONDS):
        self._environments = {name: dict(environment) for name, environment in environments.items()}
        self._containers = containers
        self._queue_seconds = queue_seconds
        self._pools: dict[str, ProcessPoolExecutor] = {}
        self._slots = {spec.name: threading.BoundedSemaphore(containers) for spec in FUNCTIONS}
        self._lock = threading.Lock()
        self._closed = False

    def _pool(self, function_name: str) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise FunctionError("Runtime.Shutdown", "the local run is stopping")
            pool = self._pools.get(function_name)
            if pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=self._containers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_container, initargs=(function_name, self._environments[function_name]),
                )
                self._pools[function_name] = pool
            return pool

    def _discard(self, function_name: str, pool: ProcessPoolExecutor) -> None:
        """A container died (os._exit, a crash): Lambda starts new ones; here a new set."""
        with self._lock:
            if self._pools.get(function_name) is pool:
                del self._pools[function_name]
        pool.shutdown(wait=False, cancel_futures=True)

    def invoke(self, function_name: str, event: dict):
        spec = _spec(function_name)
        slots = self._slots[function_name]
        if not slots.acquire(timeout=self._queue_seconds):
            raise FunctionError("TooManyRequestsException",
                                f"no {function_name} container was free within {self._queue_seconds:g}s")
        try:
            pool = self._pool(function_name)
            future = pool.submit(_invoke_in_container, function_name, event)
        except BrokenProcessPool as error:
            slots.release()
            self._discard(function_name, pool)
            raise FunctionError("Runtime.ExitError", f"a {function_name} container exited") from error
        except BaseException:
            slots.release()
            raise
        future.add_done_callback(lambda _done: slots.release())  # the container is free once it has answered
        try:
            outcome = future.result(timeout=spec.timeout_seconds + COLD_START_SECONDS)
        except FutureTimeout as error:
            raise FunctionError("Timeout", f"{function_name} ran longer than {spec.timeout_seconds}s") from error
        except BrokenProcessPool as error:
            self._discard(function_name, pool)
            raise FunctionError("Runtime.ExitError", f"a {function_name} container exited") from error
        if "error" in outcome:
            raise FunctionError(outcome["error"]["errorType"], outcome["error"]["errorMessage"])
        return outcome["result"]

    def warm_up(self, function_name: str, count: int) -> None:
        """Import the function in up to `count` containers now, so the first requests don't pay for it."""
        pool = self._pool(function_name)
        futures = [pool.submit(_import_only, function_name) for _ in range(min(count, self._containers))]
        for future in futures:
            future.result(timeout=120)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)


def _import_only(function_name: str) -> None:
    importlib.import_module(_spec(function_name).handler.rsplit(".", 1)[0])
