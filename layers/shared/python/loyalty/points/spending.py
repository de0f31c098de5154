"""The points side of kernel.spending: another capability (rewards) spends a member's points in one
ledger operation with its own reads and writes."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from loyalty.kernel.errors import MemberNotFound
from loyalty.kernel.ports import Clock
from loyalty.kernel.spending import (
    BusinessKey, JoinedRead, MemberStanding, R, SpendingChange, SpendingOutcome, SpentPoints,
)
from loyalty.points.ledger import BalanceDraft, EntryType, Reference
from loyalty.points.operation import Change, Guard, LedgerOperation, Reads
from loyalty.points.ports import PointsRepository, ProgramRulesRepository, Snapshot, WritePlan

_SPEND_TYPES = {"redemption": (EntryType.REDEMPTION, EntryType.REDEMPTION_CANCEL)}


def _standing(member_id: str, snap: Snapshot) -> MemberStanding:
    member, balance = snap.member, snap.balance
    return MemberStanding(member_id=member_id, exists=member is not None, tier=member.tier if member else "base",
                          status=member.status if member else "unknown", available=balance.available,
                          reserved=balance.reserved, debt=balance.debt)


class _Account:
    def __init__(self, member_id: str, snap: Snapshot, ledger: BalanceDraft):
        self.standing = _standing(member_id, snap)
        self.found: Mapping[str, Any] = snap.joined
        self.ledger = ledger

    def spend(self, points: int, *, reference_kind: str, reference_id: str, reason: str,
              store_id: str | None) -> SpentPoints:
        if not self.standing.exists:
            raise MemberNotFound(f"member {self.standing.member_id} does not exist")
        return self.ledger.spend(points, entry_type=_SPEND_TYPES[reference_kind][0], store_id=store_id,
                                 reference=Reference(kind=reference_kind, id=reference_id), reason=reason)

    def give_back(self, spent: SpentPoints, *, reference_kind: str, reference_id: str, reason: str,
                  store_id: str | None) -> int:
        return self.ledger.give_back(spent, entry_type=_SPEND_TYPES[reference_kind][1], store_id=store_id,
                                     reference=Reference(kind=reference_kind, id=reference_id), reason=reason)

    def balance_after(self) -> dict:
        return self.ledger.balance.summary()

    def entry_ids(self) -> list[str]:
        return [entry.entry_id for entry in self.ledger.entries]


class PointsSpending:
    """kernel.spending.SpendingLedger over the one ledger operation."""

    def __init__(self, repo: PointsRepository, rules: ProgramRulesRepository, clock: Clock):
        self._repo = repo
        self._rules = rules
        self._ledger = LedgerOperation(repo, clock)

    def run(self, member_id: str, answer: type[R], draft: Callable[[Any, datetime], SpendingChange[R]], *,
            reads: Mapping[str, JoinedRead], key: BusinessKey | None = None,
            member: bool = True) -> SpendingOutcome[R]:
        rules = self._rules.current()
        guard = None if key is None else Guard(key.scope, key.key, key.request_hash, key.conflict_field,
                                               record=key.record.key)

        def ledger_draft(snap: Snapshot, now: datetime) -> Change[R]:
            account = _Account(member_id, snap, BalanceDraft(snap.balance, rules=rules, now=now))
            change = draft(account, now)
            if change.writes is None:
                return Change(None, change.result)
            balance = account.ledger.finish()
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance,
                                    entries=account.ledger.entries, joined=change.writes, events=change.events),
                          change.result)

        outcome = self._ledger.run(member_id, answer, ledger_draft, guard=guard,
                                   reads=Reads(member=member, joined=reads))
        return SpendingOutcome(outcome.result, outcome.created)

    def standing(self, member_id: str) -> MemberStanding:
        return _standing(member_id, self._repo.load(member_id, member=True))
