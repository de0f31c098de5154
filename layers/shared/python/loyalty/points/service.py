"""Points use cases: earning on purchases and activities, returns, bonuses, adjustments (PointsService);
activation of pending points (PointsActivation); reading back (PointsQueries); the program rules
(ProgramAdmin).

Every write is one LedgerOperation: one read (the balance and what the operation needs, in one round
trip; the program rules come from a short per-container cache) and one transaction that writes the
balance, its ledger entries and an idempotency claim keyed by the operation's business identity (kept
for good)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty.kernel.errors import ConcurrentUpdate, MemberNotFound, StoreNotFound
from loyalty.kernel.idempotency import canonical, payload_hash
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import Clock
from loyalty.kernel.standing import QualifyingFact, StandingUpdate, TierTracker
from loyalty.points.earning import (
    PurchasedLine, calculate_purchase_points, check_occurred_at, plan_return, points_to_refund, purchase_lot_id,
    store_local_date,
)
from loyalty.points.errors import (
    PointsPaymentNotCaptured, PointsPaymentNotFound, PurchaseNotFound, ReturnBeforePurchase, UnknownActivityType,
    UnsupportedCurrency,
)
from loyalty.points.events import (PointsActivated, PointsAdjusted, PointsEarned, PointsReturned,
                                   purchase_recorded, returned_money)
from loyalty.points.entries import EntryType, Reference
from loyalty.points.ledger import BalanceDraft, PointsBalance, Taken, month_end, split_taken
from loyalty.points.operation import Change, Guard, LedgerOperation, Outcome, Reads
from loyalty.points.ports import (
    CounterIncrement, PendingLot, PointsPaymentRecord, PointsRepository, ProgramRulesRepository, PurchaseRecord,
    ShouldContinue, Snapshot, WritePlan,
)
from loyalty.points.program import MAX_LATE_POSTING_DAYS, ProgramRules, ProgramRulesInput, default_rules
from loyalty.points.requests import AdjustmentRequest, PurchaseRequest, ReturnRequest
from loyalty.points.results import (
    ActivationRun, ActivityResult, AdjustmentResult, BalanceSummary, BonusResult, LedgerPage, LinePoints,
    PointsBreakdown, PointsView, PurchaseResult, ReturnResult, TierChange,
)

ACTIVATION_LOOKBACK_DAYS = 7  # how far back the first activation run looks for due lots
# Activity counters outlive the longest late-posting window the rules allow, not just today's setting:
# a window widened later must still find the counts of its period.
COUNTER_KEEP = timedelta(days=2 + MAX_LATE_POSTING_DAYS)


def _summary(balance: PointsBalance) -> BalanceSummary:
    return BalanceSummary.model_validate(balance.summary())


def _captured_payment(snap: Snapshot, member_id: str, request: PurchaseRequest) -> PointsPaymentRecord:
    """The points payment a purchase names: this member's, for this store and order, and captured."""
    payment = snap.payment
    if payment is None or payment.member_id != member_id:
        raise PointsPaymentNotFound(f"member {member_id} has no points payment {request.points_payment_id}",
                                    field="points_payment_id")
    if (payment.store_id, payment.order_id) != (request.store_id, request.order_id):
        raise PointsPaymentNotCaptured(f"points payment {payment.payment_id} is for order {payment.order_id} at "
                                       f"{payment.store_id}", field="points_payment_id")
    if payment.status != "captured":
        raise PointsPaymentNotCaptured(f"points payment {payment.payment_id} is {payment.status}; capture it before "
                                       "recording the purchase", field="points_payment_id")
    return payment


def _require_member(snap: Snapshot, member_id: str) -> None:
    if snap.member is None:
        raise MemberNotFound(f"member {member_id} does not exist")


def _tier_change(update: StandingUpdate | None) -> TierChange | None:
    return TierChange.model_validate(update.change) if update is not None and update.change else None


class PointsService:
    def __init__(self, repo: PointsRepository, rules: ProgramRulesRepository, clock: Clock,
                 tiers: TierTracker | None = None):
        self._rules = rules
        self._ledger = LedgerOperation(repo, clock)
        self._tiers = tiers  # keeps the member's tier standing on the balance, in the same transaction

    def _track(self, snap: Snapshot, ledger: BalanceDraft, member_id: str, fact: QualifyingFact,
               now: datetime) -> StandingUpdate | None:
        """The tiers' figures and any upgrade, written on the balance this operation writes anyway."""
        if self._tiers is None:
            return None
        update = self._tiers.record(member_id, snap.balance.tier_standing,
                                    snap.member.tier if snap.member else None, fact, now)
        ledger.balance.tier_standing = update.standing
        return update

    # -- purchases ------------------------------------------------------------------------------
    def earn_purchase(self, member_id: str, request: PurchaseRequest, client: ClientIdentity) -> Outcome[PurchaseResult]:
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        rules = self._rules.current()
        if request.currency != rules.currency:
            raise UnsupportedCurrency(f"this program earns on {rules.currency} amounts", field="currency")
        guard = Guard(f"purchase:{request.store_id}", request.order_id,
                      payload_hash(canonical({"member_id": member_id, **request.model_dump()})), "order_id")

        def draft(snap: Snapshot, now: datetime) -> Change[PurchaseResult]:
            _require_member(snap, member_id)
            store = snap.stores.get(request.store_id)
            if store is None:
                raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
            check_occurred_at(request.occurred_at, now, rules)
            paid = _captured_payment(snap, member_id, request) if request.points_payment_id else None
            local_date = store_local_date(request.occurred_at, store.timezone)
            held = self._tiers.held(snap.balance.tier_standing, snap.member.tier, now) if self._tiers else None
            earning = calculate_purchase_points(rules, request.lines, tier=held.tier if held else snap.member.tier,
                                                store_id=store.store_id, city=store.city, local_date=local_date,
                                                tier_factor=held.multiplier if held else None)
            activates_at = request.occurred_at + timedelta(days=rules.activation_delay_days)
            pending = activates_at > now
            reference = Reference(kind="purchase", id=request.order_id)
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = ledger.credit(earning.points, entry_type=EntryType.EARN, reference=reference,
                                   reason=f"purchase {request.order_id} at {request.store_id}",
                                   occurred_at=request.occurred_at, store_id=request.store_id, pending=pending)
            first_purchase = snap.balance.purchase_count == 0
            ledger.balance.purchase_count += 1
            zone = rules.zone()
            tier = self._track(snap, ledger, member_id, QualifyingFact(
                kind="purchase", reference_id=f"{request.store_id}#{request.order_id}",
                day=request.occurred_at.astimezone(zone).date(), today=now.astimezone(zone).date(),
                spend=Decimal(earning.breakdown["eligible_spend"]), visit=True), now)
            balance = ledger.finish()
            lot = None
            if credit.to_pending > 0:
                lot = PendingLot(lot_id=purchase_lot_id(request.store_id, request.order_id), member_id=member_id,
                                 points=credit.to_pending, activates_at=activates_at, earned_at=request.occurred_at,
                                 store_id=request.store_id, source=reference)
            lines = [PurchasedLine(sku=line.sku, category=line.category, quantity=line.quantity, amount=line.amount,
                                   points=points, unit_price=line.unit_price if line.discounted else None, discounted=line.discounted,
                                   new_product=line.new_product)
                     for line, points in zip(request.lines, earning.line_points)]
            purchase = PurchaseRecord(
                member_id=member_id, order_id=request.order_id, store_id=request.store_id,
                channel=request.channel.value, occurred_at=request.occurred_at, currency=request.currency,
                total=request.total, payment_method=request.payment_method, points=earning.points, lines=lines,
                lot_id=lot.lot_id if lot else None, rules_version=rules.version, recorded_at=now,
                points_payment_id=request.points_payment_id, points_paid=paid.points if paid else 0,
                points_taken=dict(paid.taken) if paid else None,
            )
            result = PurchaseResult(
                member_id=member_id, order_id=request.order_id, store_id=request.store_id,
                occurred_at=request.occurred_at, points=earning.points,
                status="pending" if pending else "available", activates_at=activates_at if pending else None,
                breakdown=PointsBreakdown.model_validate(earning.breakdown),
                lines=[LinePoints(sku=line.sku, quantity=line.quantity, points=line.points) for line in lines],
                debt_repaid=credit.debt_repaid, first_purchase=first_purchase, rules_version=rules.version,
                balance=_summary(balance), entry_ids=[e.entry_id for e in ledger.entries],
                tier_change=_tier_change(tier),
            )
            event = PointsEarned.of(now, member_id, "purchase", request.order_id, request.store_id, credit.points,
                                    pending=pending, debt_repaid=credit.debt_repaid)
            recorded = purchase_recorded(now, purchase, first_purchase=first_purchase,
                                         member_since=snap.member.enrolled_at if snap.member else None)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    new_purchase=purchase, purchase_event=recorded, new_lot=lot,
                                    events=[event, *(tier.events if tier else [])],
                                    joined=list(tier.writes) if tier else []), result)

        outcome = self._ledger.run(member_id, PurchaseResult, draft, guard=guard,
                                   reads=Reads(member=True, store_ids=(request.store_id,),
                                               payment_id=request.points_payment_id))
        member = outcome.snapshot.member
        if outcome.result.first_purchase and member is not None and member.referred_by:
            # granted once per referred member; a replay completes a bonus an interrupted first attempt missed
            self.grant_referral_bonus(member.referred_by, member_id, request.store_id, request.occurred_at)
        return outcome

    # -- returns --------------------------------------------------------------------------------
    def record_return(self, member_id: str, request: ReturnRequest, client: ClientIdentity) -> Outcome[ReturnResult]:
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.returning_store_id, field="returning_store_id")
        rules = self._rules.current()
        guard = Guard(f"return:{request.returning_store_id}", request.return_id,
                      payload_hash(canonical({"member_id": member_id, **request.model_dump()})), "return_id")

        def draft(snap: Snapshot, now: datetime) -> Change[ReturnResult]:
            purchase = snap.purchase
            if purchase is None or purchase.member_id != member_id:
                raise PurchaseNotFound(
                    f"member {member_id} has no purchase {request.order_id} at store {request.store_id}",
                    field="order_id")
            if request.returning_store_id not in snap.stores:
                raise StoreNotFound(f"store {request.returning_store_id} is not a store of this chain",
                                    field="returning_store_id")
            check_occurred_at(request.occurred_at, now, rules, what="return", check_late=False)
            if request.occurred_at < purchase.occurred_at:
                raise ReturnBeforePurchase("a return cannot happen before its purchase", field="occurred_at")
            plan = plan_return(purchase.lines, request)
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            lot_points = snap.lot.points if snap.lot else 0
            clawed = ledger.claw_back(plan.points, pending_available=lot_points,
                                      reference=Reference(kind="return", id=request.return_id),
                                      reason=f"return {request.return_id} of order {request.order_id}",
                                      occurred_at=request.occurred_at, store_id=request.returning_store_id)
            refund = points_to_refund(purchase.lines, plan.returned, purchase.total, purchase.points_paid,
                                      purchase.points_refunded) if purchase.points_paid else 0
            taken_left = purchase.points_taken
            if refund > 0:
                given, rest = split_taken(Taken(**purchase.points_taken), refund)
                ledger.give_back(given, entry_type=EntryType.PAYMENT_REFUND, store_id=request.returning_store_id,
                                 reference=Reference(kind="return", id=request.return_id),
                                 reason=f"points that paid for returned goods of order {request.order_id}")
                taken_left = rest.body()
            zone = rules.zone()
            excluded = set(rules.excluded_categories)
            spend = sum((line.amount * (plan.returned[i] - line.returned) / line.quantity
                         for i, line in enumerate(purchase.lines)
                         if i in plan.returned and line.category not in excluded), Decimal(0))
            tier = self._track(snap, ledger, member_id, QualifyingFact(
                kind="return", reference_id=f"{purchase.store_id}#{purchase.order_id}",
                day=purchase.occurred_at.astimezone(zone).date(), today=now.astimezone(zone).date(),
                spend=-spend.quantize(Decimal("0.01"))), now)
            balance = ledger.finish()
            lines = [line.model_copy(update={"returned": plan.returned.get(i, line.returned)})
                     for i, line in enumerate(purchase.lines)]
            returned = purchase.model_copy(update={"lines": lines, "version": purchase.version + 1,
                                                   "points_refunded": purchase.points_refunded + refund,
                                                   "points_taken": taken_left,
                                                   "returned_points": purchase.returned_points + plan.points})
            result = ReturnResult(
                member_id=member_id, return_id=request.return_id, order_id=request.order_id,
                store_id=request.store_id, returning_store_id=request.returning_store_id,
                occurred_at=request.occurred_at, points=clawed.points, from_pending=clawed.from_pending,
                from_available=clawed.from_available, debt_added=clawed.debt_added, points_refunded=refund,
                lines=[LinePoints.model_validate(line) for line in plan.lines],
                balance=_summary(balance), entry_ids=[e.entry_id for e in ledger.entries],
                tier_change=_tier_change(tier),
            )
            event = PointsReturned(occurred_at=now, member_id=member_id, return_id=request.return_id,
                                   order_id=request.order_id, store_id=request.store_id,
                                   returning_store_id=request.returning_store_id, points=clawed.points,
                                   debt_added=clawed.debt_added, points_refunded=refund,
                                   channel=purchase.channel, purchased_at=purchase.occurred_at,
                                   **returned_money(purchase.lines, plan.returned))
            return Change(WritePlan(
                balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                purchase_returned=(purchase, returned),
                lot_change=(snap.lot, lot_points - clawed.from_pending) if clawed.from_pending else None,
                events=[event, *(tier.events if tier else [])], joined=list(tier.writes) if tier else [],
            ), result)

        return self._ledger.run(member_id, ReturnResult, draft, guard=guard, reads=Reads(
            store_ids=(request.returning_store_id,), purchase=(request.store_id, request.order_id),
            lot_id=purchase_lot_id(request.store_id, request.order_id)))

    # -- activities and bonuses -----------------------------------------------------------------
    def earn_activity(self, member_id: str, *, activity_id: str, activity_type: str, occurred_at: datetime,
                      store_id: str | None = None, client: ClientIdentity | None = None) -> Outcome[ActivityResult]:
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
        guard = Guard(f"activity:{member_id}", activity_id, payload_hash(canonical(
            {"type": activity_type, "store_id": store_id, "occurred_at": occurred_at})), "activity_id")

        def draft(snap: Snapshot, now: datetime) -> Change[ActivityResult]:
            _require_member(snap, member_id)
            zone = rules.zone()
            if store_id is not None:
                store = snap.stores.get(store_id)
                if store is None:
                    raise StoreNotFound(f"store {store_id} is not a store of this chain", field="store_id")
                zone = ZoneInfo(store.timezone)
            check_occurred_at(occurred_at, now, rules, what="activity")
            local_date = occurred_at.astimezone(zone).date()
            counter = None
            if rule.daily_cap is not None or rule.monthly_cap is not None:
                counter = CounterIncrement(activity_type, local_date, rule.daily_cap, rule.monthly_cap,
                                           month_end(local_date.strftime("%Y-%m")) + COUNTER_KEEP)
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = ledger.credit(rule.points, entry_type=EntryType.ACTIVITY,
                                   reference=Reference(kind="activity", id=activity_id),
                                   reason=f"{activity_type} on {local_date.isoformat()}", occurred_at=occurred_at,
                                   store_id=store_id)
            program_zone = rules.zone()
            tier = self._track(snap, ledger, member_id, QualifyingFact(
                kind="activity", reference_id=activity_id, day=occurred_at.astimezone(program_zone).date(),
                today=now.astimezone(program_zone).date(), activity_type=activity_type), now)
            balance = ledger.finish()
            result = ActivityResult(
                member_id=member_id, activity_id=activity_id, type=activity_type, store_id=store_id,
                occurred_at=occurred_at, local_date=local_date.isoformat(), points=credit.points,
                debt_repaid=credit.debt_repaid, balance=_summary(balance),
                entry_ids=[e.entry_id for e in ledger.entries], tier_change=_tier_change(tier),
            )
            event = PointsEarned.of(now, member_id, "activity", activity_id, store_id, credit.points,
                                    pending=False, debt_repaid=credit.debt_repaid, activity_type=activity_type)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    counter=counter, events=[event, *(tier.events if tier else [])],
                                    joined=list(tier.writes) if tier else []), result)

        return self._ledger.run(member_id, ActivityResult, draft, guard=guard,
                                reads=Reads(member=True, store_ids=(store_id,) if store_id else ()))

    def grant_welcome_bonus(self, member_id: str, store_id: str, occurred_at: datetime) -> Outcome[BonusResult] | None:
        """The program's welcome bonus, once per member (None when the program gives none)."""
        bonus = self._rules.current().welcome_bonus
        if bonus <= 0:
            return None
        return self._bonus(member_id, bonus, EntryType.WELCOME, ("welcome", member_id),
                           Reference(kind="enrollment", id=member_id), "welcome bonus", store_id, occurred_at)

    def grant_referral_bonus(self, referrer_id: str, referred_member_id: str, store_id: str,
                             occurred_at: datetime) -> Outcome[BonusResult] | None:
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

    def grant_birthday_bonus(self, member_id: str, points: int, year: int, store_id: str,
                             occurred_at: datetime) -> bool:
        """A tier's birthday bonus, once per member and year (kernel.ports.BonusPoints)."""
        outcome = self._bonus(member_id, points, EntryType.BIRTHDAY, ("birthday", f"{member_id}:{year}"),
                              Reference(kind="birthday", id=str(year)), f"birthday bonus {year}", store_id,
                              occurred_at)
        return outcome.created

    def _bonus(self, member_id: str, points: int, entry_type: EntryType, claim_key: tuple[str, str],
               reference: Reference, reason: str, store_id: str, occurred_at: datetime) -> Outcome[BonusResult]:
        rules = self._rules.current()
        guard = Guard(claim_key[0], claim_key[1],
                      payload_hash({"bonus": claim_key[0], "key": claim_key[1], "member_id": member_id}))

        def draft(snap: Snapshot, now: datetime) -> Change[BonusResult]:
            _require_member(snap, member_id)
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = ledger.credit(points, entry_type=entry_type, reference=reference, reason=reason,
                                   occurred_at=occurred_at, store_id=store_id)
            tier = None
            if entry_type == EntryType.REFERRAL:  # a referral counts towards the referrer's activity score
                zone = rules.zone()
                tier = self._track(snap, ledger, member_id, QualifyingFact(
                    kind="activity", reference_id=f"referral:{claim_key[1]}",
                    day=occurred_at.astimezone(zone).date(), today=now.astimezone(zone).date(),
                    activity_type="referral"), now)
            balance = ledger.finish()
            result = BonusResult(member_id=member_id, type=entry_type.value, points=points,
                                 debt_repaid=credit.debt_repaid, balance=_summary(balance),
                                 entry_ids=[e.entry_id for e in ledger.entries])
            event = PointsEarned.of(now, member_id, entry_type.value, claim_key[1], store_id, points,
                                    pending=False, debt_repaid=credit.debt_repaid)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    events=[event, *(tier.events if tier else [])],
                                    joined=list(tier.writes) if tier else []), result)

        return self._ledger.run(member_id, BonusResult, draft, guard=guard, reads=Reads(member=True))

    # -- adjustments ----------------------------------------------------------------------------
    def adjust(self, member_id: str, request: AdjustmentRequest, client: ClientIdentity) -> Outcome[AdjustmentResult]:
        client.require(Scope.POINTS_ADJUST)
        if request.store_id is not None:
            client.require_store(request.store_id)
        rules = self._rules.current()
        guard = Guard("adjustment", request.adjustment_id,
                      payload_hash(canonical({"member_id": member_id, **request.model_dump()})), "adjustment_id")

        def draft(snap: Snapshot, now: datetime) -> Change[AdjustmentResult]:
            _require_member(snap, member_id)
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            credit = ledger.adjust(request.points, reference=Reference(kind="adjustment", id=request.adjustment_id),
                                   reason=request.reason, client_id=client.client_id, store_id=request.store_id)
            balance = ledger.finish()
            result = AdjustmentResult(
                member_id=member_id, adjustment_id=request.adjustment_id, points=request.points,
                reason=request.reason, client_id=client.client_id, debt_repaid=credit.debt_repaid,
                balance=_summary(balance), entry_ids=[e.entry_id for e in ledger.entries],
            )
            event = PointsAdjusted(occurred_at=now, member_id=member_id, adjustment_id=request.adjustment_id,
                                   points=request.points, client_id=client.client_id)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    events=[event]), result)

        return self._ledger.run(member_id, AdjustmentResult, draft, guard=guard, reads=Reads(member=True))


class PointsActivation:
    """Pending points become available once their return window has passed (the schedule's job)."""

    def __init__(self, repo: PointsRepository, rules: ProgramRulesRepository, clock: Clock):
        self._repo = repo
        self._rules = rules
        self._clock = clock
        self._ledger = LedgerOperation(repo, clock)

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

        def draft(snap: Snapshot, now: datetime) -> Change[BalanceSummary] | None:
            lot = snap.lot
            if lot is None or lot.activates_at > now:
                return None
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            ledger.activate(lot.points, earned_at=lot.earned_at, reference=Reference(kind="lot", id=lot_id),
                            store_id=lot.store_id)
            balance = ledger.finish()
            event = PointsActivated(occurred_at=now, member_id=member_id, lot_id=lot_id, points=lot.points)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    lot_activated=lot, events=[event]), _summary(balance))

        return self._ledger.run(member_id, BalanceSummary, draft, reads=Reads(lot_id=lot_id)) is not None


class PointsQueries:
    def __init__(self, repo: PointsRepository, clock: Clock, rules: ProgramRulesRepository | None = None):
        self._repo = repo
        self._clock = clock
        self._rules = rules

    def balance(self, member_id: str, client: ClientIdentity) -> PointsView:
        """One GetItem whatever the member's history (a second only for a member with no points yet).

        The balance as of now: points whose month has ended are left out even before the expiry job or
        the member's next write records their expiry (in memory only; nothing is written)."""
        client.require(Scope.POINTS_READ)
        balance = self._repo.get_balance(member_id)
        if balance is None:
            if not self._repo.member_exists(member_id):
                raise MemberNotFound(f"member {member_id} does not exist")
            balance = PointsBalance(member_id=member_id)
        rules = self._rules.current() if self._rules is not None else default_rules()
        as_of_now = BalanceDraft(balance, rules=rules, now=self._clock.now())
        return PointsView.model_validate(as_of_now.balance.view(as_of_now.today))

    def ledger(self, member_id: str, client: ClientIdentity, *, limit: int = 20, cursor: str | None = None) -> LedgerPage:
        client.require(Scope.POINTS_READ)
        entries, next_cursor = self._repo.ledger_page(member_id, limit, cursor)
        if not entries and cursor is None and not self._repo.member_exists(member_id):
            raise MemberNotFound(f"member {member_id} does not exist")
        return LedgerPage(member_id=member_id, items=entries, next_cursor=next_cursor)


class ProgramAdmin:
    """The program's earning rules, edited by the back office with the version it read."""

    def __init__(self, rules: ProgramRulesRepository, clock: Clock):
        self._rules = rules
        self._clock = clock

    def rules(self, client: ClientIdentity) -> ProgramRules:
        client.require(Scope.PROGRAM_ADMIN)
        return self._rules.current()

    def replace_rules(self, rules: ProgramRulesInput, client: ClientIdentity) -> ProgramRules:
        client.require(Scope.PROGRAM_ADMIN)
        return self._rules.replace(rules, changed_by=client.client_id, at=self._clock.now())
