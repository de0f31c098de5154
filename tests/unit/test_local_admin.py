"""The operator command (ops/admin.py) as `make keys` runs it: keys for every store with --all-stores,
no `*` the shell would expand, and no dependency on the local runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops import admin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_table_access(monkeypatch):
    """Refusals happen before any AWS call."""
    def unexpected(_local):
        raise AssertionError("the command reached the table")
    monkeypatch.setattr(admin, "_services", unexpected)


@pytest.mark.parametrize("args, message", [
    (["--kind", "backoffice", "--stores", "*"], "for every store use --all-stores"),
    (["--kind", "backoffice", "--stores", "SH-JINGAN,*"], "for every store use --all-stores"),
    (["--kind", "pos", "--stores", "*"], "for every store use --all-stores"),
    (["--kind", "pos", "--all-stores"], "--all-stores is for back-office keys only"),
    (["--kind", "webshop", "--all-stores"], "--all-stores is for back-office keys only"),
    (["--kind", "backoffice", "--stores", " , "], "at least one store id"),
    (["--kind", "backoffice", "--stores", "WEB", "--all-stores"], "not allowed with argument"),
    (["--kind", "backoffice"], "one of the arguments --stores --all-stores is required"),
])
def test_refused_store_arguments_say_what_to_use(no_table_access, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        admin.main(["keys", "create", "--client-id", "ops-tool", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def create_and_list(capsys, *args: str) -> tuple[dict[str, str], str]:
    admin.main(["keys", "create", "--client-id", "ops-tool", *args])
    created = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line)
    admin.main(["keys", "list"])
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith(created["key_id"])]
    return created, line


def test_all_stores_makes_a_back_office_key_for_every_store(aws, capsys):
    created, listed = create_and_list(capsys, "--kind", "backoffice", "--all-stores")
    assert created["api_key"].startswith(f"lk_{created['key_id']}_")
    assert listed.split()[1:4] == ["ops-tool", "backoffice", "*"]


def test_stores_are_taken_as_named(aws, capsys):
    _created, listed = create_and_list(capsys, "--kind", "pos", "--stores", "SH-XUHUI, SH-JINGAN")
    assert listed.split()[1:4] == ["ops-tool", "pos", "SH-JINGAN,SH-XUHUI"]


def test_the_local_option_needs_only_the_endpoints_file_not_the_runner(tmp_path):
    script = ("import sys\nfrom ops import admin\n"
              "try:\n    admin.main(['--local', 'keys', 'list'])\nexcept SystemExit as stop:\n    print(stop)\n"
              "print(sorted(m for m in ('local.run', 'local.gateway', 'local.lambdas', 'aws_cdk') if m in sys.modules))")
    environment = {**os.environ, "LOYALTY_LOCAL_DATA": str(tmp_path),  # no run there
                   "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["the local platform is not running: start it with `make run`", "[]"]
