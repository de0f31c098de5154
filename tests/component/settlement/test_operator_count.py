"""`python -m ops.admin settlement count --entry PK SK`: an operator counts an entry the consumer gave up on,
at most once however often the command runs."""
from __future__ import annotations

import pytest

from infra.resources import SETTLEMENT_SHARDS
from ops import admin
from tests.component.settlement.conftest import Ledger, by_store, report


def test_an_entry_counts_once_however_often_the_operator_counts_it(services, capsys):
    services.settlement_shards = SETTLEMENT_SHARDS  # as the command's own services read them
    ledger = Ledger(services)
    member = ledger.member()
    ledger.purchase(member, "SH-JINGAN", "300.00")
    ledger.redeem(member, 120, "HZ-XIHU")
    earned, redeemed = ledger.items()
    keys = [redeemed["PK"], redeemed["SK"]]

    admin.main(["settlement", "count", "--entry", *keys, "--entry", earned["PK"], earned["SK"]])
    admin.main(["settlement", "count", "--entry", *keys])
    assert capsys.readouterr().out.splitlines() == [
        f"{keys[0]} {keys[1]}: counted", f"{earned['PK']} {earned['SK']}: counted",
        f"{keys[0]} {keys[1]}: already counted"]

    _, body = report({"from": "2026-11-18", "to": "2026-11-18"})
    stores = by_store(body)
    assert (stores["SH-JINGAN"]["issued"], stores["HZ-XIHU"]["redeemed"]) == (300, 120)

    with pytest.raises(SystemExit) as failed:
        admin.main(["settlement", "count", "--entry", keys[0], "LEDGER#000000009999"])
    assert failed.value.code == 1
    assert capsys.readouterr().out == f"{keys[0]} LEDGER#000000009999: no such ledger entry\n"
