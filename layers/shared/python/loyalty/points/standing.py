"""kernel.standing.StandingLedger: the tiers change a member's standing (a review, a change by hand)
through the one ledger operation, so the write is conditioned on the balance version like every other."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from loyalty.kernel.models import Result
from loyalty.kernel.ports import Clock
from loyalty.kernel.standing import StandingChange
from loyalty.points.operation import Change, LedgerOperation, Reads
from loyalty.points.ports import PointsRepository, Snapshot, WritePlan


class StandingWritten(Result):
    member_id: str


class PointsStandingLedger:
    def __init__(self, repo: PointsRepository, clock: Clock):
        self._repo = repo
        self._ledger = LedgerOperation(repo, clock)

    def change(self, member_id: str,
               draft: Callable[[dict[str, Any] | None, str | None, datetime], StandingChange | None]) -> bool:
        def operation(snap: Snapshot, now: datetime) -> Change[StandingWritten] | None:
            if snap.member is None:
                return None
            change = draft(snap.balance.tier_standing, snap.member.tier, now)
            if change is None:
                return None
            # Only the standing moves: no points change, so no ledger entry and no expiry work here.
            after = snap.balance.model_copy(deep=True)
            after.tier_standing = change.standing
            after.version = snap.balance.version + 1
            after.updated_at = now
            return Change(WritePlan(balance_before=snap.balance, balance_after=after, entries=[],
                                    joined=list(change.writes), events=list(change.events)),
                          StandingWritten(member_id=member_id))

        return self._ledger.run(member_id, StandingWritten, operation, reads=Reads(member=True)) is not None

    def standing(self, member_id: str) -> tuple[bool, dict[str, Any] | None, str | None]:
        snap = self._repo.load(member_id, member=True)
        return snap.member is not None, snap.balance.tier_standing, snap.member.tier if snap.member else None
