"""Tracing only where it can be sent: on Lambda with tracing on, a Powertools Tracer patching botocore
(the one library the functions call out with); anywhere else (tests, the local run, benchmarks) a tracer
that does nothing, because importing the X-Ray SDK off Lambda builds X-Ray clients for its sampler."""
from __future__ import annotations

import os
from typing import Any, Callable

from loyalty.platform import environment as env

LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"  # set by the Lambda runtime itself


class NoTracer:
    """Tracer's decorators, doing nothing."""

    def capture_lambda_handler(self, handler: Callable | None = None, **_: Any) -> Callable:
        return handler if handler is not None else (lambda fn: fn)

    def capture_method(self, method: Callable | None = None, **_: Any) -> Callable:
        return method if method is not None else (lambda fn: fn)


def make_tracer() -> Any:
    if not os.environ.get(LAMBDA_FUNCTION_NAME) or os.environ.get(env.TRACE_DISABLED, "").lower() == "true":
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=("botocore",))
