"""Books that prove themselves: the checks of the daily reconciliation, on plain figures.

A member's books hold when their newest ledger entries chain without a gap (each entry's sequence
number follows the one before, and its `*_after` figures are the entry before's plus its own changes)
and the balance item is what the newest entry says it became. The chain-wide checks compare two
independent counts of the same day: the KPI aggregates (from the bus's events) and the settlement
counters (from the ledger's stream); and the settlement positions between stores sum to zero."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

MEASURES = (("available", "available_change", "balance_after"), ("pending", "pending_change", "pending_after"),
            ("debt", "debt_change", "debt_after"), ("reserved", "reserved_change", "reserved_after"))


@dataclass(frozen=True)
class Finding:
    scope: str  # member | chain
    subject: str
    check: str
    expected: str
    actual: str


def member_books(member_id: str, balance: Mapping[str, Any] | None, entries: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """`entries`: the member's newest ledger entries, oldest first, reaching back to the last one before
    the day checked (so the day's first entry has its predecessor). Returns the drifts found."""
    found: list[Finding] = []
    if balance is None:
        if entries:
            found.append(Finding("member", member_id, "balance_exists", "a balance item", "none"))
        return found
    for before, entry in zip(entries, entries[1:]):
        if int(entry["seq"]) != int(before["seq"]) + 1:
            found.append(Finding("member", member_id, "ledger_sequence", str(int(before["seq"]) + 1), str(entry["seq"])))
        for _name, change, after in MEASURES:
            expected = int(before.get(after, 0)) + int(entry.get(change, 0))
            if int(entry.get(after, 0)) != expected:
                found.append(Finding("member", member_id, f"entry_{entry['seq']}_{after}", str(expected),
                                     str(entry.get(after, 0))))
    if entries:
        newest = entries[-1]
        if int(balance.get("ledger_seq", 0)) != int(newest["seq"]):
            found.append(Finding("member", member_id, "balance_ledger_seq", str(newest["seq"]),
                                 str(balance.get("ledger_seq", 0))))
        for name, _change, after in MEASURES:
            if int(balance.get(name, 0)) != int(newest.get(after, 0)):
                found.append(Finding("member", member_id, f"balance_{name}", str(newest.get(after, 0)),
                                     str(balance.get(name, 0))))
    return found


def chain_checks(kpi_chain: Mapping[str, Any], settlement: Mapping[str, int]) -> list[Finding]:
    """The day's chain row of the KPIs against the settlement counters' totals of the same day.
    `settlement`: issued, returned, redeemed, captured, expired and `net_positions` (the sum of every
    store's net position, which must be zero)."""
    pairs = (
        ("points_issued", int(kpi_chain.get("points_issued", 0)) + int(kpi_chain.get("points_added_by_hand", 0)),
         int(settlement.get("issued", 0))),
        ("points_returned", int(kpi_chain.get("points_returned", 0)), int(settlement.get("returned", 0))),
        ("points_redeemed", int(kpi_chain.get("points_redeemed", 0)),
         int(settlement.get("redeemed", 0)) + int(settlement.get("captured", 0))),
        ("points_expired", int(kpi_chain.get("points_expired", 0)), int(settlement.get("expired", 0))),
    )
    found = [Finding("chain", figure, "kpis_match_settlement", str(settled), str(counted))
             for figure, counted, settled in pairs if counted != settled]
    if int(settlement.get("net_positions", 0)) != 0:
        found.append(Finding("chain", "settlement_positions", "positions_sum_to_zero", "0",
                             str(settlement["net_positions"])))
    return found
