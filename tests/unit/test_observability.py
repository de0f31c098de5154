"""Tracing is set up only where traces can go: on Lambda with tracing on."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loyalty.platform import environment as env
from loyalty.platform.observability import LAMBDA_FUNCTION_NAME, NoTracer, make_tracer

ROOT = Path(__file__).resolve().parents[2]


def test_off_lambda_the_tracer_does_nothing(monkeypatch):
    monkeypatch.delenv(LAMBDA_FUNCTION_NAME, raising=False)
    tracer = make_tracer()
    assert isinstance(tracer, NoTracer)

    def handler(event, context):
        return event

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_method(handler) is handler


def test_on_lambda_with_tracing_disabled_the_tracer_does_nothing(monkeypatch):
    monkeypatch.setenv(LAMBDA_FUNCTION_NAME, "loyalty-points")
    monkeypatch.setenv(env.TRACE_DISABLED, "true")
    assert isinstance(make_tracer(), NoTracer)


def test_on_lambda_it_is_powertools_tracer_patching_botocore_only():
    """In a process of its own: a real Tracer patches libraries for the whole process."""
    script = ("from loyalty.platform.observability import make_tracer; t = make_tracer(); "
              "print(type(t).__name__, t._config['patch_modules'])")
    environment = {**os.environ, LAMBDA_FUNCTION_NAME: "loyalty-points", env.TRACE_DISABLED: "false",
                   "PYTHONPATH": str(ROOT / "layers/shared/python")}
    out = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == "Tracer ('botocore',)"
