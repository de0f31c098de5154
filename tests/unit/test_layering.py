"""Dependencies point inward, and capabilities meet only in the composition root.

- the kernel imports nothing of the platform or of any capability;
- a capability's domain, ports, events, results and use cases import the kernel and their own
  capability only: no boto3, no environment, no Powertools, no platform;
- a capability's adapters (dynamo.py, queue.py, storage.py) may add the platform and boto3;
- no capability imports another one (they talk through ports and events), except where the
  composition root (loyalty.wiring) joins them;
- environment variable names appear only in the one environment contract.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers/shared/python/loyalty"
CAPABILITIES = ("members", "clients", "points", "feedback", "rewards", "settlement", "tiers", "insight", "kpis")
ADAPTER_MODULES = ("dynamo", "queue", "storage", "segment")  # segment: feedback word segmentation with jieba
THIRD_PARTY_ALLOWED_IN_DOMAIN = {"pydantic", "pydantic_core", "typing_extensions"}
FORBIDDEN_IN_DOMAIN = {"boto3", "botocore", "aws_lambda_powertools", "os"}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(p for p in parts if p != "__init__")
        found.append((name, path))
    return found


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


MODULES = _modules()


def test_the_package_has_the_capabilities_and_the_shared_rooms():
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms >= {"kernel", "platform", *CAPABILITIES}


@pytest.mark.parametrize("name,path", [m for m in MODULES if m[0].startswith("loyalty.kernel")], ids=lambda v: str(v))
def test_the_kernel_depends_on_nothing_of_the_platform_or_capabilities(name, path):
    for imported in _imports(path):
        if imported.startswith("loyalty."):
            assert imported.startswith("loyalty.kernel"), f"{name} imports {imported}"
        else:
            top = _top(imported)
            assert top in sys.stdlib_module_names or top in THIRD_PARTY_ALLOWED_IN_DOMAIN, f"{name} imports {imported}"
            assert top not in FORBIDDEN_IN_DOMAIN, f"{name} imports {imported}"


def _capability_modules():
    for name, path in MODULES:
        parts = name.split(".")
        if len(parts) >= 2 and parts[1] in CAPABILITIES:
            yield name, path, parts[1], len(parts) > 2 and parts[2] in ADAPTER_MODULES


@pytest.mark.parametrize("name,path,capability,adapter", list(_capability_modules()), ids=lambda v: str(v))
def test_capabilities_depend_inward_and_never_on_each_other(name, path, capability, adapter):
    for imported in _imports(path):
        if imported.startswith("loyalty."):
            room = imported.split(".")[1]
            if room in CAPABILITIES:
                assert room == capability, f"{name} reaches into another capability: {imported}"
                if not adapter:
                    module = ".".join(imported.split(".")[:3])
                    assert module.split(".")[-1] not in ADAPTER_MODULES, f"{name} imports an adapter: {imported}"
            elif room == "platform":
                assert adapter, f"{name} is not an adapter but imports the platform: {imported}"
            else:
                assert room == "kernel", f"{name} imports {imported}"
        elif not adapter:
            top = _top(imported)
            assert top not in FORBIDDEN_IN_DOMAIN, f"{name} imports {imported}"
            assert top in sys.stdlib_module_names or top in THIRD_PARTY_ALLOWED_IN_DOMAIN, f"{name} imports {imported}"


@pytest.mark.parametrize("name,path", [m for m in MODULES if m[0].startswith("loyalty.platform")], ids=lambda v: str(v))
def test_the_platform_knows_only_the_errors_of_capabilities(name, path):
    for imported in _imports(path):
        parts = imported.split(".")
        if parts[0] == "loyalty" and len(parts) > 2 and parts[1] in CAPABILITIES:
            assert name == "loyalty.platform.errors" and imported.split(".")[2] == "errors", \
                f"{name} imports {imported}"


def test_a_forbidden_import_is_caught(tmp_path):
    """The checker itself: a domain module importing boto3 or another capability is seen."""
    bad = tmp_path / "bad.py"
    bad.write_text("import boto3\nfrom loyalty.points.service import PointsService\nimport os\n")
    imported = _imports(bad)
    assert {"boto3", "loyalty.points.service", "os"} <= imported


def test_environment_variable_names_live_only_in_the_contract():
    from loyalty.platform import environment as env

    names = {value for key, value in vars(env).items() if key.isupper() and isinstance(value, str)}
    assert len(names) >= 8
    contract = PACKAGE / "platform/environment.py"
    offenders = []
    for folder in ("layers/shared/python", "functions", "infra", "local", "ops", "bench", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == contract or path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if f'"{n}"' in text or f"'{n}'" in text]
    assert offenders == []
