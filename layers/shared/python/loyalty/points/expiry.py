"""The daily expiry job (PointsExpiry): points whose expiry month has ended leave the balance with one
`expiry` ledger entry and PointsExpired.v1, and PointsExpiringSoon.v1 announces a month's points the
program's notice days before they go, once per member and month.

It reads only members it has work for: every points balance is indexed by the day the job next has work
for it (its `expiry_check_on`: the day after its soonest month ends, or the day a month's notice is due),
in shards, so a day's work spreads over partitions and a member without expiring points is never read.

    dispatch (the schedule, daily shortly after midnight in the program's zone)
      → one task per (day, shard) for every day since the last dispatch up to today, on the expiry queue
    run (a worker, one task per invocation)
      → each member of the partition: one LedgerOperation that only expires and announces (None when
        there is nothing to do), which also moves the member to the partition of its next day
      → out of time: the rest of the partition goes back on the queue as a task starting after the
        last member done; a member whose balance kept changing fails the task, which the queue retries.

Running a task twice changes nothing the second time: what expired is gone from the balance, what was
announced is marked on it, and both are written with the balance under its version."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kernel.ports import Clock
from loyalty.points.events import PointsExpired, PointsExpiringSoon
from loyalty.points.ledger import BalanceDraft, EntryType, PointsBalance, month_end
from loyalty.points.operation import Change, LedgerOperation
from loyalty.points.ports import (
    ExpiryIndex, ExpiryTask, ExpiryWork, PointsRepository, ProgramRulesRepository, ShouldContinue, Snapshot,
    WritePlan,
)
from loyalty.points.results import BalanceSummary, ExpiryDispatch, ExpiryRun, MemberExpiry

EXPIRY_LOOKBACK_DAYS = 7  # how far back the first dispatch looks for partitions (later ones start at the watermark)


class PointsExpiry:
    def __init__(self, repo: PointsRepository, index: ExpiryIndex, rules: ProgramRulesRepository, clock: Clock,
                 work: ExpiryWork):
        self._index = index
        self._rules = rules
        self._clock = clock
        self._work = work
        self._ledger = LedgerOperation(repo, clock)

    # -- the schedule ---------------------------------------------------------------------------
    def today(self) -> date:
        return self._clock.now().astimezone(self._rules.current().zone()).date()

    def dispatch(self) -> ExpiryDispatch:
        """Hand out every (day, shard) partition from the day after the watermark up to today (in the
        program's zone), then move the watermark to today. A run that failed half way hands the same
        partitions out again, which is harmless; days the schedule missed are caught up."""
        today = self.today()
        last = self._index.dispatched_through()
        first = last + timedelta(days=1) if last is not None else today - timedelta(days=EXPIRY_LOOKBACK_DAYS)
        days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
        tasks = [ExpiryTask(day=day, shard=shard) for day in days for shard in range(self._index.shards)]
        if tasks:
            self._work.send(tasks)
            self._index.set_dispatched_through(today)
        return ExpiryDispatch(days=days, tasks=len(tasks))

    # -- a worker -------------------------------------------------------------------------------
    def run(self, task: ExpiryTask, *, should_continue: ShouldContinue = lambda: True) -> ExpiryRun:
        """Every member of the task's partition. When `should_continue` says no, the rest goes back on
        the queue (after the last member done) unless a member failed: then the run stops `incomplete`,
        and the task itself must be retried from where it started (the members done have left the
        partition, so the retry reads little more than what is left); so must a task with `failed`
        members at its end."""
        counts = {"members": 0, "expired_members": 0, "expired_points": 0, "notices": 0, "unchanged": 0, "failed": 0}
        done_through: str | None = None
        continued = incomplete = False
        for member_id, position in self._index.due_members(task.day, task.shard, task.after):
            if not should_continue():
                if counts["failed"] == 0 and done_through is not None:
                    self._work.send([ExpiryTask(day=task.day, shard=task.shard, after=done_through)])
                    continued = True
                else:  # nothing handed on (a member failed, or there was no time for even one): run again
                    incomplete = True
                break
            counts["members"] += 1
            try:
                result = self.expire_member(member_id)
            except ConcurrentUpdate:
                counts["failed"] += 1
            else:
                if result is None:
                    counts["unchanged"] += 1
                else:
                    counts["expired_members"] += 1 if result.expired else 0
                    counts["expired_points"] += result.expired
                    counts["notices"] += len(result.announced)
            done_through = position
        return ExpiryRun(day=task.day, shard=task.shard, continued=continued, incomplete=incomplete, **counts)

    def expire_member(self, member_id: str) -> MemberExpiry | None:
        """Expire what is due and announce what expires within the notice days, through the one ledger
        operation; None when there is nothing to do (nothing is written then)."""
        rules = self._rules.current()

        def draft(snap: Snapshot, now: datetime) -> Change[MemberExpiry] | None:
            before = snap.balance
            if before.version == 0:
                return None
            ledger = BalanceDraft(before, rules=rules, now=now)
            announced = ledger.announce_expiring()
            balance = ledger.finish()
            if not ledger.entries and not announced and _same_schedule(before, balance):
                return None
            events: list = []
            expiries = [e for e in ledger.entries if e.type == EntryType.EXPIRY]
            expired = -sum(e.available_change for e in expiries)
            if expiries:
                origins: dict[str, int] = {}
                for entry in expiries:
                    for store, points in (entry.origins or {}).items():
                        origins[store] = origins.get(store, 0) - points
                events.append(PointsExpired(occurred_at=now, member_id=member_id, points=expired,
                                            months=sorted(ledger.expired), origins=origins))
            events += [PointsExpiringSoon(occurred_at=now, member_id=member_id, month=month,
                                          expires_on=month_end(month), points=points)
                       for month, points in announced.items()]
            result = MemberExpiry(member_id=member_id, expired=expired, months=sorted(ledger.expired),
                                  announced=list(announced), expiry_check_on=balance.expiry_check_on,
                                  balance=BalanceSummary.model_validate(balance.summary()))
            return Change(WritePlan(balance_before=before, balance_after=balance, entries=ledger.entries,
                                    events=events), result)

        outcome = self._ledger.run(member_id, MemberExpiry, draft)
        return outcome.result if outcome is not None else None


def _same_schedule(before: PointsBalance, after: PointsBalance) -> bool:
    """Nothing for the index to learn: the day the job next has work, and what was announced, are as stored."""
    return before.expiry_check_on == after.expiry_check_on and before.expiry_noticed == after.expiry_noticed
