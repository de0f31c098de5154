"""What `cdk deploy` uploads must import and run on Lambda: each function's code (functions/) plus
its layers (/opt/python), with nothing else on the path.

Lambda runs the functions on Python 3.14/arm64; this machine runs 3.11/x86_64. The dependencies
layer is built twice from the same requirements file (`make layers`): for the Lambda target, whose
compiled extensions we check are there for that target, and for this machine, which we import against.
Our own code is pure Python and is the same in both (docs/decisions.md)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.function import LAYER_PLATFORM, LAYER_PYTHON_VERSION
from infra.resources import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
TARGET_LAYER = ROOT / ".build/layers/deps/python"
HOST_LAYER = ROOT / ".build/layers/deps-host/python"

IMPORT_EVERY_HANDLER = """
import importlib, json, sys
sys.path[:] = [p for p in sys.path if 'site-packages' not in p]
sys.path[0:0] = {path!r}
loaded = {{}}
for name, handler in {handlers!r}:
    module_name, attribute = handler.rsplit('.', 1)
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute)), handler
    loaded[name] = module.__file__
# Adapters import boto3 lazily, on first invocation: import every module of the package now.
import pkgutil, loyalty, boto3
for info in pkgutil.walk_packages(loyalty.__path__, 'loyalty.'):
    importlib.import_module(info.name)
origins = {{m: getattr(sys.modules[m], '__file__', None) for m in ('pydantic', 'aws_lambda_powertools', 'boto3', 'loyalty')}}
print(json.dumps({{'loaded': loaded, 'origins': origins}}))
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Path:
    """/var/task and /opt/python as Lambda lays them out, built from the stack's asset sources."""
    if not HOST_LAYER.is_dir() or not TARGET_LAYER.is_dir():
        pytest.fail("dependency layers are not built: run `make layers` (make test does)")
    root = tmp_path_factory.mktemp("lambda")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "functions", root / "var/task", ignore=ignore)
    shutil.copytree(ROOT / "layers/shared/python", root / "opt/python", ignore=ignore)
    shutil.copytree(HOST_LAYER, root / "opt/python", dirs_exist_ok=True, ignore=ignore)
    return root


def test_every_handler_imports_from_the_deployment_contents_alone(deployment):
    path = [str(deployment / "var/task"), str(deployment / "opt/python")]
    handlers = [(spec.name, spec.handler) for spec in FUNCTIONS]
    script = IMPORT_EVERY_HANDLER.format(path=path, handlers=handlers)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True,
                            cwd=deployment, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["loaded"]) == {spec.name for spec in FUNCTIONS}
    for module, origin in report["origins"].items():
        assert origin and origin.startswith(str(deployment)), f"{module} came from {origin}, not the deployment"


def test_target_layer_carries_extensions_built_for_the_lambda_runtime():
    tag = f"cpython-{LAYER_PYTHON_VERSION.replace('.', '')}-{LAYER_PLATFORM.split('_', 1)[1]}-linux-gnu"
    extensions = list(TARGET_LAYER.glob("pydantic_core/_pydantic_core.*.so"))
    assert extensions, "pydantic_core's compiled extension is missing from the target layer"
    assert all(tag in e.name for e in extensions), [e.name for e in extensions]
    host_only = [p for p in TARGET_LAYER.rglob("*.so") if "x86_64" in p.name]
    assert host_only == []


def test_function_code_asset_holds_only_handlers():
    shipped = sorted(p.name for p in (ROOT / "functions").glob("*.py"))
    expected = sorted(spec.handler.rsplit(".", 1)[0] + ".py" for spec in FUNCTIONS)
    assert shipped == expected
