"""Points at the till: a member pays part of an order with points. Reserve (the points leave `available`
for `reserved`), then capture when the order completes or void when it is abandoned; a reservation left
alone is released by the sweep after the program's hold time. Each step is one ledger operation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from math import gcd

from loyalty.kernel.errors import ConcurrentUpdate, MemberNotFound, StoreNotFound
from loyalty.kernel.idempotency import canonical, payload_hash
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import Clock
from loyalty.points.errors import (
    PaymentAlreadyCaptured, PaymentAlreadyVoided, PointsNotWholeCents, PointsPaymentNotFound, PointsPaymentOverLimit,
    UnsupportedCurrency,
)
from loyalty.points.events import PointsPaymentCaptured, PointsPaymentReleased, PointsPaymentReserved
from loyalty.points.ledger import BalanceDraft, Reference, Taken
from loyalty.points.operation import Change, Guard, LedgerOperation, Outcome, Reads
from loyalty.points.ports import (
    PointsPaymentRecord, PointsRepository, ProgramRulesRepository, ShouldContinue, Snapshot, WritePlan,
)
from loyalty.points.requests import PointsPaymentRequest
from loyalty.points.results import BalanceSummary, PointsPaymentResult

HOLD_LOOKBACK_DAYS = 2  # the sweep looks this far back for holds a failed run left behind


def _result(record: PointsPaymentRecord, balance, entry_ids: list[str]) -> PointsPaymentResult:
    return PointsPaymentResult(
        payment_id=record.payment_id, member_id=record.member_id, store_id=record.store_id,
        order_id=record.order_id, status=record.status, points=record.points, cash_value=record.cash_value,
        currency=record.currency, held_until=record.held_until,
        balance=BalanceSummary.model_validate(balance.summary()), entry_ids=entry_ids)


def payment_scope(member_id: str) -> str:
    return f"points_payment:{member_id}"


class PointsPayments:
    def __init__(self, repo: PointsRepository, rules: ProgramRulesRepository, clock: Clock):
        self._repo = repo
        self._rules = rules
        self._clock = clock
        self._ledger = LedgerOperation(repo, clock)

    def reserve(self, member_id: str, request: PointsPaymentRequest,
                client: ClientIdentity) -> Outcome[PointsPaymentResult]:
        """Hold the points and answer their cash value. Idempotent by payment_id for good. Refused
        (nothing written) when the balance is short, the member owes points, the points are over the
        program's share of the order or are not whole cents."""
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        rules = self._rules.current()
        if request.currency != rules.currency:
            raise UnsupportedCurrency(f"this program's points pay {rules.currency} amounts", field="currency")
        if (request.points * 100) % rules.points_per_currency_unit:
            raise PointsNotWholeCents(
                f"{request.points} points are not a whole number of cents at {rules.points_per_currency_unit} "
                f"points per {rules.currency}", field="points")
        cash = rules.cash_value(request.points)
        limit = request.order_total * rules.points_payment_max_share
        if cash > limit:
            step = rules.points_per_currency_unit // gcd(rules.points_per_currency_unit, 100)  # whole cents
            max_points = int(limit * rules.points_per_currency_unit) // step * step
            raise PointsPaymentOverLimit(
                f"points may pay at most {rules.points_payment_max_share:%} of an order ({limit.quantize(Decimal('0.01'))} "
                f"{rules.currency})", field="points", details={"max_points": max_points})
        guard = Guard(payment_scope(member_id), request.payment_id,
                      payload_hash(canonical(request.model_dump())), "payment_id")

        def draft(snap: Snapshot, now: datetime) -> Change[PointsPaymentResult]:
            if snap.member is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            if request.store_id not in snap.stores:
                raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            reference = Reference(kind="points_payment", id=request.payment_id)
            taken = ledger.reserve(request.points, reference=reference, store_id=request.store_id,
                                   reason=f"held for order {request.order_id} at {request.store_id}")
            balance = ledger.finish()
            record = PointsPaymentRecord(
                payment_id=request.payment_id, member_id=member_id, store_id=request.store_id,
                order_id=request.order_id, channel=request.channel.value, currency=request.currency,
                order_total=request.order_total, points=request.points, cash_value=cash, status="reserved",
                reserved_at=now, held_until=now + timedelta(minutes=rules.points_payment_hold_minutes),
                taken=taken.body())
            event = PointsPaymentReserved(occurred_at=now, member_id=member_id, payment_id=request.payment_id,
                                          store_id=request.store_id, order_id=request.order_id,
                                          points=request.points, cash_value=cash)
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    new_payment=record, events=[event]),
                          _result(record, balance, [e.entry_id for e in ledger.entries]))

        return self._ledger.run(member_id, PointsPaymentResult, draft, guard=guard,
                                reads=Reads(member=True, store_ids=(request.store_id,)))

    def capture(self, member_id: str, payment_id: str, client: ClientIdentity) -> Outcome[PointsPaymentResult]:
        """The order completed: the held points are paid. Capturing again answers the same (200)."""
        return self._close(member_id, payment_id, "captured", client)

    def void(self, member_id: str, payment_id: str, client: ClientIdentity) -> Outcome[PointsPaymentResult]:
        """The order was abandoned: the held points go back. Voiding again answers the same (200)."""
        return self._close(member_id, payment_id, "voided", client)

    def release_expired(self, *, should_continue: ShouldContinue = lambda: True) -> dict:
        """Release every reservation held past its time (the sweep's job), oldest days first."""
        now = self._clock.now()
        today = now.astimezone(timezone.utc).date()
        released = failed = 0
        complete = True
        for back in range(HOLD_LOOKBACK_DAYS, -1, -1):
            for member_id, payment_id in self._repo.due_holds(today - timedelta(days=back), now):
                if not should_continue():
                    complete = False
                    break
                try:
                    outcome = self._close(member_id, payment_id, "expired", None)
                    released += outcome.created
                except (PaymentAlreadyCaptured, PointsPaymentNotFound):
                    pass  # captured meanwhile: nothing to release
                except ConcurrentUpdate:
                    failed += 1  # the next run picks it up again
            if not complete:
                break
        return {"released": released, "failed": failed, "complete": complete}

    holds = "points_payments"

    def forget_member(self, member_id: str) -> int:
        """kernel.ports.MemberDataHolder: the member's erasure releases every points reservation still
        held (the points go back to the balance, which stays in the books)."""
        released = 0
        for payment_id in self._repo.open_payments(member_id):
            try:
                released += self._close(member_id, payment_id, "voided", None).created
            except (PaymentAlreadyCaptured, PaymentAlreadyVoided):
                pass  # settled meanwhile
        return released

    def _close(self, member_id: str, payment_id: str, outcome_status: str,
               client: ClientIdentity | None) -> Outcome[PointsPaymentResult]:
        rules = self._rules.current()
        if client is not None:
            client.require(Scope.POINTS_WRITE)

        def draft(snap: Snapshot, now: datetime) -> Change[PointsPaymentResult]:
            record = snap.payment
            if record is None or record.member_id != member_id:
                raise PointsPaymentNotFound(f"member {member_id} has no points payment {payment_id}",
                                            field="payment_id")
            if client is not None:
                client.require_store(record.store_id)
            done = {"captured": "captured", "voided": "voided", "expired": "voided"}
            if record.status != "reserved":
                settled = "voided" if record.status in ("voided", "expired") else "captured"
                if settled == done[outcome_status]:  # asked again: the same answer, nothing written
                    answer = _result(record, snap.balance, [])
                    if record.close_balance is not None:  # the balance read beside the record may predate it
                        answer = answer.model_copy(update={"balance": BalanceSummary.model_validate(record.close_balance)})
                    return Change(None, answer)
                if settled == "captured":
                    raise PaymentAlreadyCaptured(f"points payment {payment_id} was captured", field="payment_id")
                raise PaymentAlreadyVoided(f"points payment {payment_id} was {record.status}", field="payment_id")
            ledger = BalanceDraft(snap.balance, rules=rules, now=now)
            taken = Taken(**record.taken)
            reference = Reference(kind="points_payment", id=payment_id)
            if outcome_status == "captured":
                ledger.capture(taken, reference=reference, store_id=record.store_id,
                               reason=f"paid order {record.order_id} at {record.store_id}")
                event = PointsPaymentCaptured(occurred_at=now, member_id=member_id, payment_id=payment_id,
                                              store_id=record.store_id, order_id=record.order_id,
                                              points=record.points, cash_value=record.cash_value,
                                              origins=dict(taken.origins))
            else:
                why = "voided by the till" if outcome_status == "voided" else "hold time over"
                ledger.release(taken, reference=reference, store_id=record.store_id,
                               reason=f"order {record.order_id} not paid with points: {why}")
                event = PointsPaymentReleased(occurred_at=now, member_id=member_id, payment_id=payment_id,
                                              store_id=record.store_id, order_id=record.order_id,
                                              points=record.points, reason=outcome_status)
            balance = ledger.finish()
            closed = record.model_copy(update={"status": outcome_status, "closed_at": now,
                                               "version": record.version + 1})
            answer = _result(closed, balance, [e.entry_id for e in ledger.entries])
            closed = closed.model_copy(update={"close_balance": answer.balance.model_dump(mode="json")})
            return Change(WritePlan(balance_before=snap.balance, balance_after=balance, entries=ledger.entries,
                                    payment_change=(record, closed), events=[event]), answer)

        return self._ledger.run(member_id, PointsPaymentResult, draft, reads=Reads(payment_id=payment_id))
