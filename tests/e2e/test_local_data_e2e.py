"""The local run's data across restarts (`make run` twice), `make reset`, and the operator command
against it (`make keys`)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from local.embedded import free_port
from tests.e2e.local_run import ROOT, LocalRun

pytestmark = pytest.mark.e2e


def enrollment(phone: str) -> dict:
    return {"phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}


def events_of(platform, member_id: str) -> list[str]:
    items = platform.call("GET", "/_local/events", client=None).json()["items"]
    return [e["detail-type"] for e in items if e["detail"].get("member_id") == member_id]


def wait_for_event(platform, member_id: str, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = events_of(platform, member_id)
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"no event for {member_id} within {timeout}s")


def command(run: LocalRun, *args: str) -> subprocess.CompletedProcess:
    """A command of the project run as a developer runs it, against `run`'s data folder."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=run.environment(), capture_output=True,
                          text=True, timeout=120)


def test_data_is_kept_across_restarts_until_make_reset(tmp_path, phone):
    run = LocalRun(tmp_path / "data", tmp_path / "run.log")
    try:
        first = run.start()
        created = first.call("POST", "/v1/members", json=enrollment(phone))
        assert created.status_code == 201, created.text
        member_id = created.json()["member_id"]
        assert wait_for_event(first, member_id) == ["MemberEnrolled.v1"]
        revoked = command(run, "ops.admin", "--local", "keys", "revoke", "democdchunxi")  # a demo key
        assert revoked.returncode == 0, revoked.stderr

        # While it runs, a second run over the same data and `make reset` are both refused.
        second_run = subprocess.run(run.command(free_port()), cwd=ROOT, env=run.environment(), capture_output=True,
                                    text=True, timeout=60)
        assert second_run.returncode != 0
        assert "already running" in second_run.stderr
        refused_reset = command(run, "local.reset")
        assert refused_reset.returncode == 1
        assert "stop it" in refused_reset.stdout
        assert (run.data_dir / "dynamodb").is_dir()
    finally:
        assert run.stop() == 0

    try:
        restarted = run.start()
        found = restarted.call("POST", "/v1/members/lookup", json={"phone": phone})
        assert found.status_code == 200, found.text
        assert found.json()["member_id"] == member_id
        assert restarted.call("GET", f"/v1/members/{member_id}", client="webshop").status_code == 200
        # The kept table keeps its keys as they were: demo keys work, the revoked one stays revoked.
        assert restarted.call("GET", f"/v1/members/{member_id}", client="pos-cd-chunxi").status_code == 401
        # What was relayed before the restart is not relayed again; what happens now is.
        again = restarted.call("POST", "/v1/members", json=enrollment(phone[:-1] + str((int(phone[-1]) + 1) % 10)))
        assert again.status_code == 201, again.text
        assert wait_for_event(restarted, again.json()["member_id"]) == ["MemberEnrolled.v1"]
        assert events_of(restarted, member_id) == []
    finally:
        assert run.stop() == 0

    reset = command(run, "local.reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not (run.data_dir / "dynamodb").exists() and not (run.data_dir / "streams").exists()
    assert (run.data_dir / "logs").is_dir(), "logs stay"

    try:
        emptied = run.start()
        assert emptied.call("POST", "/v1/members/lookup", json={"phone": phone}).status_code == 404
        # Seeded anew: the demo key revoked before works again.
        lookup = emptied.call("POST", "/v1/members/lookup", client="pos-cd-chunxi", json={"phone": phone})
        assert lookup.status_code == 404
        assert lookup.json()["error"]["code"] == "MEMBER_NOT_FOUND"
    finally:
        assert run.stop() == 0


def admin(*args: str) -> subprocess.CompletedProcess:
    """`make keys ARGS="..."` against the session's local run (found through its data folder)."""
    return subprocess.run([sys.executable, "-m", "ops.admin", "--local", "keys", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_a_back_office_key_for_every_store_is_made_with_all_stores(platform):
    created = admin("create", "--client-id", "reports-all-stores", "--kind", "backoffice", "--all-stores")
    assert created.returncode == 0, created.stderr
    fields = dict(line.split(": ", 1) for line in created.stdout.splitlines() if ": " in line)
    key = {"X-Api-Key": fields["api_key"]}
    for store_id in ("HZ-XIHU", "CD-CHUNXI", "WEB"):
        response = platform.call("GET", f"/v1/feedback?store_id={store_id}&limit=1", client=None, headers=key)
        assert response.status_code == 200, (store_id, response.text)
    listed = admin("list")
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(fields["key_id"])]
    assert line.split()[1:4] == ["reports-all-stores", "backoffice", "*"]


@pytest.mark.parametrize("args, message", [
    (["--kind", "backoffice", "--stores", "*"], "--all-stores"),
    (["--kind", "backoffice", "--stores", "SH-JINGAN,*"], "--all-stores"),
    (["--kind", "pos", "--all-stores"], "back-office"),
    (["--kind", "backoffice", "--stores", "SH-JINGAN", "--all-stores"], "not allowed with"),
    (["--kind", "backoffice"], "one of the arguments --stores --all-stores is required"),
])
def test_keys_create_refuses_a_star_and_all_stores_for_other_kinds(platform, args, message):
    refused = admin("create", "--client-id", "refused-key", *args)
    assert refused.returncode == 2, refused.stdout
    assert message in refused.stderr
    assert "refused-key" not in admin("list").stdout, "nothing was created"


def test_an_in_memory_run_keeps_nothing(tmp_path, phone):
    run = LocalRun(tmp_path / "data", tmp_path / "run.log", "--in-memory")
    try:
        platform = run.start()
        assert platform.call("POST", "/v1/members", json=enrollment(phone)).status_code == 201
    finally:
        assert run.stop() == 0
    assert not (run.data_dir / "dynamodb").exists() and not (run.data_dir / "streams").exists()
    assert not (run.data_dir / "endpoints.json").exists(), "a stopped run leaves no endpoints behind"
