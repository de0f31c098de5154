"""The published contract holds for an outside client: schemathesis fuzzes every operation of
docs/openapi.json against a local run of its own (DynamoDB Local, moto, gateway, authorizer), once with a
back-office key and once with a store's POS key, and fails on any server error, any status the document
does not list, any response that does not match its schema and any content type it does not declare.

Bounded and seeded: CONTRACT_EXAMPLES examples per operation (default 15), seed CONTRACT_SEED."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.local_run import LocalRun

ROOT = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "15"))
SEED = int(os.environ.get("CONTRACT_SEED", "20261202"))

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """A local run of the fuzzer's own (it changes program rules and feedback settings as it goes), with
    one enrolled member whose id the member paths use, so purchases and returns reach the ledger."""
    data = tmp_path_factory.mktemp("contract-data")
    run = LocalRun(data, tmp_path_factory.mktemp("contract-run") / "run.log", "--in-memory")
    platform = run.start()
    try:
        enrolled = platform.call("POST", "/v1/members", json={
            "phone": "13912340000", "name": "合同测试", "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
        assert enrolled.status_code == 201, enrolled.text
        yield platform, enrolled.json()["member_id"], run
    finally:
        run.stop()


@pytest.mark.parametrize("client", ["backoffice", "pos-sh-jingan"])
def test_every_operation_keeps_the_contract(fuzz_target, client, tmp_path):
    platform, member_id, run = fuzz_target
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.member_id" = "{member_id}"\n', encoding="utf-8")
    command = [
        sys.executable, str(Path(__file__).with_name("schemathesis_cli.py")), "--config-file", str(config), "run",
        str(ROOT / "docs/openapi.json"),
        "--url", platform.base_url, "-H", f"X-Api-Key: {platform.key(client)}",
        "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--seed", str(SEED),
        # Examples and fuzzing send negative data too; the coverage phase would add little and much time.
        "--phases", os.environ.get("CONTRACT_PHASES", "examples,fuzzing"), "--workers", "2", "--no-shrink", "--request-timeout", "30",
        "--warnings", "off",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    summary = output.split("SUMMARY")[-1]
    assert "failed" not in summary.lower(), output[-4000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) >= 10 * EXAMPLES, summary  # every operation was exercised
