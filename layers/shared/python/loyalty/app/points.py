"""Points: earning on purchases and activities, returns, adjustments, bonuses, activation, reading back.

Every operation is one read (the balance and what the operation needs, in one round trip; the program
rules come from a short per-container cache) and one transaction that writes the balance, its ledger
entries and an idempotency claim keyed by the operation's business identity (kept for good). When the
balance changed in between, the transaction's condition fails and the operation is computed again."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.domain.clients import ClientIdentity, Scope
from loyalty.domain.errors import (
    ConcurrentUpdate, InvalidInput, MemberNotFound, PurchaseNotFound, ReturnBeforePurchase, StoreNotFound,
    UnknownActivityType, UnsupportedCurrency,
)
from loyalty.domain.events import DomainEvent
from loyalty.domain.idempotency import IdempotencyClaim, IdempotentReplay, payload_hash, replay_or_conflict
from loyalty.domain.points import (
    AdjustmentRequest, PurchasedLine, PurchaseRequest, ReturnRequest, calculate_purchase_points,
    check_occurred_at, plan_return, store_local_date,
)
from loyalty.domain.points_ledger import BalanceDraft, EntryType, PointsBalance, Reference, month_end
from loyalty.domain.points_ports import (
    CounterIncrement, PendingLot, PointsRepository, ProgramRulesRepository, PurchaseRecord, ShouldContinue,
    StaleSnapshot, StoredClaim, WritePlan,
)
from loyalty.domain.ports import Clock
from loyalty.domain.program import MAX_LATE_POSTING_DAYS, ProgramRules, ProgramRulesInput

EVENT_SOURCE = "loyalty.points"
MAX_ATTEMPTS = 6  # reads + recomputations when the balance keeps changing underneath
ACTIVATION_LOOKBACK_DAYS = 7  # how far back the first activation run looks for due lots
COUNTER_GRACE = timedelta(days=2)


@dataclass(frozen=True)
class PointsOutcome:
    """`result` is the response body; `created` is False when it is the replay of an earlier request."""

    result: dict
    created: bool


@dataclass(frozen=True)
class ActivationRun:
    activated: int
    skipped: int
    failed: int
    complete: bool

    def view(self) -> dict:
        return {"activated": self.activated, "skipped": self.skipped, "failed": self.failed,
                "complete": self.complete}


def purchase_lot_id(store_id: str, order_id: str) -> str:
    return f"P#{store_id}#{order_id}"


class PointsService:
    def __init__(self, repo: PointsRepository, rules: ProgramRulesRepository, clock: Clock):
        self._repo = repo
        self._rules = rules
        self._clock = clock

    # -- purchases ------------------------------------------------------------------------------
    def earn_purchase(self, member_id: str, request: PurchaseRequest, client: ClientIdentity) -> PointsOutcome:
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        rules = self._rules.current()
        if request.currency != rules.currency:
            raise UnsupportedCurrency(f"this program earns on {rules.currency} amounts", field="currency")
        claim_key = (f"purchase:{request.store_id}", request.order_id)
        request_hash = payload_hash(_canonical({"member_id": member_id, **request.model_dump()}))

        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, member=True, store_ids=(request.store_id,), claim=claim_key)
            if snap.claim is not None:
                outcome = _replay(snap.claim, claim_key, request_hash, "order_id")
                if outcome.result.get("first_purchase") and snap.member and snap.member.referred_by:
                    # completes a referral bonus an interrupted first attempt may have missed
                    self.grant_referral_bonus(snap.member.referred_by, member_id, request.store_id, request.occurred_at)
                return outcome
            if snap.member is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            store = snap.stores.get(request.store_id)
            if store is None:
                raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
            check_occurred_at(request.occurred_at, now, rules)

            local_date = store_local_date(request.occurred_at, store.timezone)
            earning = calculate_purchase_points(rules, request.lines, tier=snap.member.tier, store_id=store.store_id,
                                                city=store.city, local_date=local_date)
            activates_at = request.occurred_at + timedelta(days=rules.activation_delay_days)
            pending = activates_at > now
            reference = Reference(kind="purchase", id=request.order_id)
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = draft.credit(earning.points, entry_type=EntryType.EARN, reference=reference,
                                  reason=f"purchase {request.order_id} at {request.store_id}",
                                  occurred_at=request.occurred_at, store_id=request.store_id, pending=pending)
            first_purchase = snap.balance.purchase_count == 0
            draft.balance.purchase_count += 1
            balance = draft.finish()

            lot = None
            if credit.to_pending > 0:
                lot = PendingLot(lot_id=purchase_lot_id(request.store_id, request.order_id), member_id=member_id,
                                 points=credit.to_pending, activates_at=activates_at, earned_at=request.occurred_at,
                                 store_id=request.store_id, source=reference)
            purchase = PurchaseRecord(
                member_id=member_id, order_id=request.order_id, store_id=request.store_id,
                channel=request.channel.value, occurred_at=request.occurred_at, currency=request.currency,
                total=request.total, payment_method=request.payment_method, points=earning.points,
                lines=[PurchasedLine(sku=line.sku, category=line.category, quantity=line.quantity, amount=line.amount,
                                     points=points)
                       for line, points in zip(request.lines, earning.line_points)],
                lot_id=lot.lot_id if lot else None, rules_version=rules.version, recorded_at=now,
            )
            result = {
                "member_id": member_id, "order_id": request.order_id, "store_id": request.store_id,
                "occurred_at": request.occurred_at.isoformat(),
                "points": earning.points,
                "status": "pending" if pending else "available",
                **({"activates_at": activates_at.isoformat()} if pending else {}),
                "breakdown": earning.breakdown,
                "lines": [{"sku": line.sku, "quantity": line.quantity, "points": line.points} for line in purchase.lines],
                "debt_repaid": credit.debt_repaid,
                "first_purchase": first_purchase,
                "rules_version": rules.version,
                "balance": balance.summary(),
                "entry_ids": [e.entry_id for e in draft.entries],
            }
            claim = IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash, response=result,
                                     conflict_field="order_id")
            event = _earned(now, member_id, "purchase", request.order_id, request.store_id, credit.points,
                            pending, credit.debt_repaid)
            outcome = self._try_commit(WritePlan(balance_before=snap.balance, balance_after=balance, entries=draft.entries,
                                                 claim=claim, new_purchase=purchase, new_lot=lot, events=[event]), result)
            if outcome is None:
                continue  # the balance changed since it was read: read again
            if outcome.created and first_purchase and snap.member.referred_by:
                self.grant_referral_bonus(snap.member.referred_by, member_id, request.store_id, request.occurred_at)
            return outcome
        raise _too_busy()

    # -- returns --------------------------------------------------------------------------------
    def record_return(self, member_id: str, request: ReturnRequest, client: ClientIdentity) -> PointsOutcome:
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.returning_store_id, field="returning_store_id")
        rules = self._rules.current()
        claim_key = (f"return:{request.returning_store_id}", request.return_id)
        request_hash = payload_hash(_canonical({"member_id": member_id, **request.model_dump()}))
        lot_id = purchase_lot_id(request.store_id, request.order_id)

        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, store_ids=(request.returning_store_id,),
                                   purchase=(request.store_id, request.order_id), lot_id=lot_id, claim=claim_key)
            if snap.claim is not None:
                return _replay(snap.claim, claim_key, request_hash, "return_id")
            if snap.purchase is None:
                raise PurchaseNotFound(
                    f"member {member_id} has no purchase {request.order_id} at store {request.store_id}",
                    field="order_id")
            if request.returning_store_id not in snap.stores:
                raise StoreNotFound(f"store {request.returning_store_id} is not a store of this chain",
                                    field="returning_store_id")
            check_occurred_at(request.occurred_at, now, rules, what="return", check_late=False)
            purchase = snap.purchase
            if request.occurred_at < purchase.occurred_at:
                raise ReturnBeforePurchase("a return cannot happen before its purchase", field="occurred_at")
            plan = plan_return(purchase.lines, request)
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            lot_points = snap.lot.points if snap.lot else 0
            clawed = draft.claw_back(plan.points, pending_available=lot_points,
                                     reference=Reference(kind="return", id=request.return_id),
                                     reason=f"return {request.return_id} of order {request.order_id}",
                                     occurred_at=request.occurred_at, store_id=request.returning_store_id)
            balance = draft.finish()
            lines = [line.model_copy(update={"returned": plan.returned.get(i, line.returned)})
                     for i, line in enumerate(purchase.lines)]
            returned = purchase.model_copy(update={"lines": lines, "version": purchase.version + 1,
                                                   "returned_points": purchase.returned_points + plan.points})
            result = {
                "member_id": member_id, "return_id": request.return_id, "order_id": request.order_id,
                "store_id": request.store_id, "returning_store_id": request.returning_store_id,
                "occurred_at": request.occurred_at.isoformat(),
                "points": clawed.points, "from_pending": clawed.from_pending,
                "from_available": clawed.from_available, "debt_added": clawed.debt_added,
                "lines": plan.lines,
                "balance": balance.summary(),
                "entry_ids": [e.entry_id for e in draft.entries],
            }
            claim = IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash, response=result,
                                     conflict_field="return_id")
            event = DomainEvent(detail_type="PointsReturned.v1", source=EVENT_SOURCE, occurred_at=now, detail={
                "member_id": member_id, "return_id": request.return_id, "order_id": request.order_id,
                "store_id": request.store_id, "returning_store_id": request.returning_store_id,
                "points": clawed.points, "debt_added": clawed.debt_added,
            })
            outcome = self._try_commit(WritePlan(
                balance_before=snap.balance, balance_after=balance, entries=draft.entries, claim=claim,
                purchase_returned=(purchase, returned),
                lot_change=(snap.lot, lot_points - clawed.from_pending) if clawed.from_pending else None,
                events=[event],
            ), result)
            if outcome is None:
                continue  # the balance changed since it was read: read again
            return outcome
        raise _too_busy()

    # -- activities and bonuses -----------------------------------------------------------------
    def earn_activity(self, member_id: str, *, activity_id: str, activity_type: str, occurred_at: datetime,
                      store_id: str | None = None, client: ClientIdentity | None = None) -> PointsOutcome:
        """Points for a non-purchase activity (check_in, review, event_attendance, survey, feedback...).

        Idempotent by (member, activity_id) for good; the type's daily and monthly caps count per local
        day/month of `occurred_at` (the store's time zone, else the program's). In-process callers pass
        no client; HTTP callers pass theirs for the scope and store checks.
        Raises MemberNotFound, UnknownActivityType, StoreNotFound, SubmittedTooLate, OccurredInFuture,
        ActivityCapReached (the cap is full: nothing is recorded), IdempotencyKeyReused."""
        if client is not None:
            client.require(Scope.POINTS_WRITE)
            if store_id is not None:
                client.require_store(store_id)
        rules = self._rules.current()
        rule = rules.activities.get(activity_type)
        if rule is None:
            raise UnknownActivityType(f"the program gives no points for activity type {activity_type}", field="type",
                                      details={"known_types": sorted(rules.activities)})
        claim_key = (f"activity:{member_id}", activity_id)
        request_hash = payload_hash(_canonical({"type": activity_type, "store_id": store_id, "occurred_at": occurred_at}))

        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, member=True, store_ids=(store_id,) if store_id else (), claim=claim_key)
            if snap.claim is not None:
                return _replay(snap.claim, claim_key, request_hash, "activity_id")
            if snap.member is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            zone = rules.zone()
            if store_id is not None:
                store = snap.stores.get(store_id)
                if store is None:
                    raise StoreNotFound(f"store {store_id} is not a store of this chain", field="store_id")
                zone = ZoneInfo(store.timezone)
            check_occurred_at(occurred_at, now, rules, what="activity")
            local_date = occurred_at.astimezone(zone).date()
            # Counters outlive the longest late-posting window the rules allow, not just today's setting:
            # a window widened later must still find the counts of its period.
            keep_until = COUNTER_GRACE + timedelta(days=MAX_LATE_POSTING_DAYS)
            counters = []
            if rule.daily_cap is not None:
                counters.append(CounterIncrement(activity_type, f"DAY#{local_date.isoformat()}", rule.daily_cap,
                                                 _epoch(local_date + keep_until)))
            if rule.monthly_cap is not None:
                month = local_date.strftime("%Y-%m")
                counters.append(CounterIncrement(activity_type, f"MONTH#{month}", rule.monthly_cap,
                                                 _epoch(month_end(month) + keep_until)))
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = draft.credit(rule.points, entry_type=EntryType.ACTIVITY,
                                  reference=Reference(kind="activity", id=activity_id),
                                  reason=f"{activity_type} on {local_date.isoformat()}", occurred_at=occurred_at,
                                  store_id=store_id)
            balance = draft.finish()
            result = {
                "member_id": member_id, "activity_id": activity_id, "type": activity_type,
                **({"store_id": store_id} if store_id else {}),
                "occurred_at": occurred_at.isoformat(), "local_date": local_date.isoformat(),
                "points": credit.points, "debt_repaid": credit.debt_repaid,
                "balance": balance.summary(), "entry_ids": [e.entry_id for e in draft.entries],
            }
            claim = IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash, response=result,
                                     conflict_field="activity_id")
            event = _earned(now, member_id, "activity", activity_id, store_id, credit.points, False,
                            credit.debt_repaid, activity_type=activity_type)
            outcome = self._try_commit(WritePlan(balance_before=snap.balance, balance_after=balance, entries=draft.entries,
                                                 claim=claim, counters=counters, events=[event]), result)
            if outcome is None:
                continue  # the balance changed since it was read: read again
            return outcome
        raise _too_busy()

    def grant_welcome_bonus(self, member_id: str, store_id: str, occurred_at: datetime) -> PointsOutcome | None:
        """The program's welcome bonus, once per member (None when the program gives none)."""
        bonus = self._rules.current().welcome_bonus
        if bonus <= 0:
            return None
        return self._bonus(member_id, bonus, EntryType.WELCOME, ("welcome", member_id),
                           Reference(kind="enrollment", id=member_id), "welcome bonus", store_id, occurred_at)

    def grant_referral_bonus(self, referrer_id: str, referred_member_id: str, store_id: str,
                             occurred_at: datetime) -> PointsOutcome | None:
        """The referrer's bonus for a referred member's first purchase, once per referred member."""
        bonus = self._rules.current().referral_bonus
        if bonus <= 0:
            return None
        try:
            return self._bonus(referrer_id, bonus, EntryType.REFERRAL, ("referral", referred_member_id),
                               Reference(kind="referral", id=referred_member_id),
                               f"member {referred_member_id} made a first purchase", store_id, occurred_at)
        except MemberNotFound:
            return None  # the referrer has left the program

    def _bonus(self, member_id: str, points: int, entry_type: EntryType, claim_key: tuple[str, str],
               reference: Reference, reason: str, store_id: str, occurred_at: datetime) -> PointsOutcome:
        rules = self._rules.current()
        request_hash = payload_hash({"bonus": claim_key[0], "key": claim_key[1], "member_id": member_id})
        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, member=True, claim=claim_key)
            if snap.claim is not None:
                return PointsOutcome(snap.claim.response, created=False)
            if snap.member is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = draft.credit(points, entry_type=entry_type, reference=reference, reason=reason,
                                  occurred_at=occurred_at, store_id=store_id)
            balance = draft.finish()
            result = {"member_id": member_id, "type": entry_type.value, "points": points,
                      "debt_repaid": credit.debt_repaid, "balance": balance.summary(),
                      "entry_ids": [e.entry_id for e in draft.entries]}
            claim = IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash, response=result)
            event = _earned(now, member_id, entry_type.value, claim_key[1], store_id, points, False,
                            credit.debt_repaid)
            outcome = self._try_commit(WritePlan(balance_before=snap.balance, balance_after=balance, entries=draft.entries,
                                                 claim=claim, events=[event]), result)
            if outcome is None:
                continue  # the balance changed since it was read: read again
            return outcome
        raise _too_busy()

    # -- adjustments ----------------------------------------------------------------------------
    def adjust(self, member_id: str, request: AdjustmentRequest, client: ClientIdentity) -> PointsOutcome:
        client.require(Scope.POINTS_ADJUST)
        if request.store_id is not None:
            client.require_store(request.store_id)
        rules = self._rules.current()
        claim_key = ("adjustment", request.adjustment_id)
        request_hash = payload_hash(_canonical({"member_id": member_id, **request.model_dump()}))
        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, member=True, claim=claim_key)
            if snap.claim is not None:
                return _replay(snap.claim, claim_key, request_hash, "adjustment_id")
            if snap.member is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = draft.adjust(request.points, reference=Reference(kind="adjustment", id=request.adjustment_id),
                                  reason=request.reason, client_id=client.client_id, store_id=request.store_id)
            balance = draft.finish()
            result = {
                "member_id": member_id, "adjustment_id": request.adjustment_id, "points": request.points,
                "reason": request.reason, "client_id": client.client_id, "debt_repaid": credit.debt_repaid,
                "balance": balance.summary(), "entry_ids": [e.entry_id for e in draft.entries],
            }
            claim = IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash, response=result,
                                     conflict_field="adjustment_id")
            event = DomainEvent(detail_type="PointsAdjusted.v1", source=EVENT_SOURCE, occurred_at=now, detail={
                "member_id": member_id, "adjustment_id": request.adjustment_id, "points": request.points,
                "client_id": client.client_id,
            })
            outcome = self._try_commit(WritePlan(balance_before=snap.balance, balance_after=balance, entries=draft.entries,
                                                 claim=claim, events=[event]), result)
            if outcome is None:
                continue  # the balance changed since it was read: read again
            return outcome
        raise _too_busy()

    def _try_commit(self, plan: WritePlan, result: dict) -> PointsOutcome | None:
        """Commit one operation: its outcome, a concurrent duplicate's original result, or None when the
        balance changed since it was read."""
        try:
            self._repo.commit(plan)
        except StaleSnapshot:
            return None
        except IdempotentReplay as replay:  # a concurrent duplicate won
            return PointsOutcome(replay.response, created=False)
        return PointsOutcome(result, created=True)

    # -- activation of pending points -----------------------------------------------------------
    def activate_due(self, *, should_continue: ShouldContinue = lambda: True) -> ActivationRun:
        """Make every due pending lot available. Days before the watermark are known to be done; the
        watermark moves to yesterday only after a run that finished every earlier day without failures."""
        now = self._clock.now()
        today = now.astimezone(timezone.utc).date()
        start = self._repo.activation_watermark() or today - timedelta(days=ACTIVATION_LOOKBACK_DAYS)
        activated = skipped = failed = 0
        complete = True
        day = start
        while day <= today and complete:
            for member_id, lot_id in self._repo.due_lots(day, now):
                if not should_continue():
                    complete = False
                    break
                try:
                    if self.activate_lot(member_id, lot_id):
                        activated += 1
                    else:
                        skipped += 1
                except ConcurrentUpdate:
                    failed += 1  # the next run picks it up again
            day += timedelta(days=1)
        # Keep yesterday in the next run's range: a lot can reach the index a little after it is written.
        if complete and failed == 0 and today - timedelta(days=1) > start:
            self._repo.set_activation_watermark(today - timedelta(days=1))
        return ActivationRun(activated=activated, skipped=skipped, failed=failed, complete=complete)

    def activate_lot(self, member_id: str, lot_id: str) -> bool:
        """Activate one due lot; False when it is gone (activated already, or returned) or not yet due."""
        rules = self._rules.current()
        for _attempt in range(MAX_ATTEMPTS):
            now = self._clock.now()
            snap = self._repo.load(member_id, lot_id=lot_id)
            lot = snap.lot
            if lot is None or lot.activates_at > now:
                return False
            draft = BalanceDraft(snap.balance, rules=rules, now=now)
            draft.activate(lot.points, earned_at=lot.earned_at, reference=Reference(kind="lot", id=lot_id),
                           store_id=lot.store_id)
            balance = draft.finish()
            event = DomainEvent(detail_type="PointsActivated.v1", source=EVENT_SOURCE, occurred_at=now,
                                           detail={"member_id": member_id, "lot_id": lot_id, "points": lot.points})
            try:
                self._repo.commit(WritePlan(balance_before=snap.balance, balance_after=balance, entries=draft.entries,
                                            lot_activated=lot, events=[event]))
            except StaleSnapshot:
                continue
            return True
        raise _too_busy()

    # -- reading back ---------------------------------------------------------------------------
    def balance(self, member_id: str, client: ClientIdentity) -> dict:
        """One GetItem whatever the member's history (a second only for a member with no points yet)."""
        client.require(Scope.POINTS_READ)
        balance = self._repo.get_balance(member_id)
        if balance is None:
            if not self._repo.member_exists(member_id):
                raise MemberNotFound(f"member {member_id} does not exist")
            balance = PointsBalance(member_id=member_id)
        return balance.view(self._clock.now().astimezone(timezone.utc).date())

    def ledger(self, member_id: str, client: ClientIdentity, *, limit: int = 20, cursor: str | None = None) -> dict:
        client.require(Scope.POINTS_READ)
        start_key = _decode_cursor(cursor) if cursor else None
        entries, next_key = self._repo.ledger_page(member_id, limit, start_key)
        if not entries and cursor is None and not self._repo.member_exists(member_id):
            raise MemberNotFound(f"member {member_id} does not exist")
        page: dict[str, Any] = {"member_id": member_id, "items": [e.view() for e in entries]}
        if next_key is not None:
            page["next_cursor"] = _encode_cursor(next_key)
        return page

    # -- program rules --------------------------------------------------------------------------
    def rules(self, client: ClientIdentity) -> dict:
        client.require(Scope.PROGRAM_ADMIN)
        return self._rules.current().view()

    def replace_rules(self, rules: ProgramRulesInput, client: ClientIdentity) -> dict:
        client.require(Scope.PROGRAM_ADMIN)
        stored: ProgramRules = self._rules.replace(rules, changed_by=client.client_id, at=self._clock.now())
        return stored.view()



def _replay(claim: StoredClaim, claim_key: tuple[str, str], request_hash: str, conflict_field: str) -> PointsOutcome:
    """The operation was done before: the same request gets the original result, another one a 409."""
    replay = replay_or_conflict(claim.request_hash, claim.response,
                                IdempotencyClaim(scope=claim_key[0], key=claim_key[1], request_hash=request_hash,
                                                 response={}, conflict_field=conflict_field))
    return PointsOutcome(replay.response, created=False)


def _earned(now: datetime, member_id: str, kind: str, reference_id: str, store_id: str | None, points: int, pending: bool,
            debt_repaid: int, **extra: str) -> DomainEvent:
    detail = {"member_id": member_id, "kind": kind, "reference_id": reference_id, "points": points,
              "pending": pending, "debt_repaid": debt_repaid, **extra}
    if store_id is not None:
        detail["store_id"] = store_id
    return DomainEvent(detail_type="PointsEarned.v1", source=EVENT_SOURCE, occurred_at=now, detail=detail)


def _canonical(value: Any) -> Any:
    """What a request means rather than how it was spelled: a retry that writes 10:00+08:00 as 02:00Z
    or 100.00 as 100.0 is the same request."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    return value


def _too_busy() -> ConcurrentUpdate:
    return ConcurrentUpdate("the member's points changed repeatedly while this was computed; retry the request")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def _encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise InvalidInput("cursor is not one this API returned", field="cursor")
    return key
