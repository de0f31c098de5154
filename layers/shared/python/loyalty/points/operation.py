"""The one ledger operation. Every points write (purchase, return, activity, bonus, adjustment,
activation, and later redemption, capture and expiry) runs through it:

    load (the balance, the claim and what the operation names, in ONE read)
      → the same request done before: its original result; another request with the same key: 409
      → the operation drafts its change on what was read (its rules may refuse: nothing is written)
      → ONE transaction: balance (conditioned on the version read), ledger entries, claim, extras, events
      → the balance moved underneath: read and draft again; a concurrent duplicate won: its result.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Generic, Mapping, TypeVar

from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kernel.idempotency import IdempotencyClaim, IdempotentReplay, replay_or_conflict
from loyalty.kernel.models import Result
from loyalty.kernel.spending import JoinedRead, ReadAgain
from loyalty.kernel.ports import Clock
from loyalty.points.ports import PointsRepository, Snapshot, WritePlan

R = TypeVar("R", bound=Result)
MAX_ATTEMPTS = 6  # reads + recomputations when the balance keeps changing underneath


@dataclass(frozen=True)
class Reads:
    """What an operation needs beside the balance, read in the same round trip."""

    member: bool = False
    store_ids: tuple[str, ...] = ()
    purchase: tuple[str, str] | None = None  # (store_id, order_id)
    lot_id: str | None = None
    payment_id: str | None = None
    joined: Mapping[str, JoinedRead] | None = None  # another capability's items (see kernel.spending)


@dataclass(frozen=True)
class Guard:
    """The business key that makes an operation happen once, for good, and the hash of what it asked."""

    scope: str
    key: str
    request_hash: str
    conflict_field: str = "Idempotency-Key"
    record: Any = None  # the storage key of the record that holds the claim, when not the claim's own item


@dataclass(frozen=True)
class Change(Generic[R]):
    """What an operation drafted on a snapshot: the write (without the claim) and its answer."""

    plan: WritePlan | None  # None: the work was done before; answer `result` without writing
    result: R


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """`created` is False when `result` is the replay of an earlier request."""

    result: R
    created: bool
    snapshot: Snapshot


Draft = Callable[[Snapshot, datetime], "Change[R] | None"]


class LedgerOperation:
    def __init__(self, repo: PointsRepository, clock: Clock):
        self._repo = repo
        self._clock = clock

    def run(self, member_id: str, answer: type[R], draft: Draft, *, reads: Reads = Reads(),
            guard: Guard | None = None) -> Outcome[R] | None:
        """Run one operation; None when `draft` finds nothing to do."""
        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, member=reads.member, store_ids=reads.store_ids,
                                   purchase=reads.purchase, lot_id=reads.lot_id, payment_id=reads.payment_id,
                                   joined=reads.joined or {}, claim=(guard.scope, guard.key) if guard else None,
                                   claim_record=guard.record if guard else None)
            if snap.claim is not None and guard is not None:
                replay = replay_or_conflict(snap.claim.request_hash, snap.claim.response, self._claim(guard, {}))
                return Outcome(answer.model_validate(replay.response), created=False, snapshot=snap)
            change = draft(snap, now)
            if change is None:
                return None
            if change.plan is None:
                return Outcome(change.result, created=False, snapshot=snap)
            if guard is not None:
                change.plan.claim = self._claim(guard, change.result.body())
                change.plan.claim_record = guard.record
            try:
                self._repo.commit(change.plan)
            except ReadAgain:  # StaleSnapshot, or a joined write's condition saying the same
                continue
            except IdempotentReplay as replay:  # a concurrent duplicate won
                return Outcome(answer.model_validate(replay.response), created=False, snapshot=snap)
            return Outcome(change.result, created=True, snapshot=snap)
        raise ConcurrentUpdate("the member's points changed repeatedly while this was computed; retry the request")

    @staticmethod
    def _claim(guard: Guard, response: dict) -> IdempotencyClaim:
        return IdempotencyClaim(scope=guard.scope, key=guard.key, request_hash=guard.request_hash,
                                response=response, conflict_field=guard.conflict_field)
