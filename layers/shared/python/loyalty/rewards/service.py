"""Rewards use cases: the catalogue (back office), what a member can redeem, redemptions and their
cancellation (one points transaction each, through kernel.spending), and the voucher wallet."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from pydantic import ValidationError

from loyalty.kernel.errors import InvalidInput, MemberNotFound, StoreNotFound
from loyalty.kernel.idempotency import IdempotencyClaim, canonical, payload_hash
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import Clock, StoreDirectory
from loyalty.kernel.spending import (
    BusinessKey, PointsAccount, SpendingChange, SpendingLedger, SpendingOutcome, SpentPoints,
)
from loyalty.kernel.vouchers import VoucherGrant
from loyalty.rewards.domain import (
    Names, RedemptionRecord, Reward, RewardInput, RewardKind, Voucher, VoucherSource, VoucherTerms, VoucherUse,
    missing, new_voucher_code, normalise_code, voucher_for,
)
from loyalty.rewards.errors import (
    MinimumSpendNotMet, RedemptionNotFound, RewardNotAvailable, RewardNotFound, VoucherAlreadyUsed,
    VoucherExpired, VoucherNotFound, VoucherNotValidHere, VoucherNotYetValid, VoucherVoided,
)
from loyalty.rewards.events import (
    RedemptionCancelled, RewardRedeemed, VoucherIssued, VoucherReleased, VoucherRevoked, VoucherUsed,
)
from loyalty.rewards.ports import RewardRepository, StaleVoucher, VoucherRepository
from loyalty.rewards.requests import RedemptionRequest, VoucherReleaseRequest, VoucherUseRequest
from loyalty.rewards.results import (
    Balance, MemberRewards, RedemptionResult, RewardList, RewardOption, RewardView, VoucherPage, VoucherUseResult,
    VoucherView,
)

VOUCHER_ATTEMPTS = 4  # reads + conditional writes when a voucher keeps changing underneath


def reward_view(reward: Reward, stock_left: int | None) -> RewardView:
    return RewardView.model_validate({**reward.model_dump(), "stock_left": stock_left})


def voucher_view(voucher: Voucher) -> VoucherView:
    data = voucher.model_dump(exclude={"version"})
    return VoucherView.model_validate({**data, "qr_payload": voucher.qr_payload()})


class RewardCatalogue:
    """The back office's rewards: create, replace (optimistic, by version), read."""

    def __init__(self, rewards: RewardRepository, clock: Clock):
        self._rewards = rewards
        self._clock = clock

    def create(self, reward: RewardInput, client: ClientIdentity) -> RewardView:
        client.require(Scope.PROGRAM_ADMIN)
        if reward.version != 0:
            raise InvalidInput("a new reward starts from version 0", field="version")
        stored = self._rewards.create(reward, at=self._clock.now())
        return reward_view(stored, reward.stock)

    def replace(self, reward_id: str, reward: RewardInput, client: ClientIdentity) -> RewardView:
        client.require(Scope.PROGRAM_ADMIN)
        if reward.reward_id != reward_id:
            raise InvalidInput("reward_id in the body differs from the path", field="reward_id")
        self._rewards.replace(reward, at=self._clock.now())
        return self.get(reward_id, client)

    def get(self, reward_id: str, client: ClientIdentity) -> RewardView:
        client.require(Scope.POINTS_READ)
        found = self._rewards.get(reward_id)
        if found is None:
            raise RewardNotFound(f"there is no reward {reward_id}")
        return reward_view(*found)

    def list(self, client: ClientIdentity) -> RewardList:
        client.require(Scope.POINTS_READ)
        return RewardList(items=[reward_view(*entry) for entry in self._rewards.catalogue()])


class Redemptions:
    """Spending points on rewards, anywhere in the chain."""

    def __init__(self, rewards: RewardRepository, ledger: SpendingLedger, stores: StoreDirectory, clock: Clock,
                 new_code: Callable[[], str] = new_voucher_code):
        self._rewards = rewards
        self._ledger = ledger
        self._stores = stores
        self._clock = clock
        self._new_code = new_code

    def options(self, member_id: str, client: ClientIdentity, store_id: str | None = None) -> MemberRewards:
        """Every reward with whether the member can redeem it now and, if not, what is missing."""
        client.require(Scope.POINTS_READ)
        store = None
        if store_id is not None:
            store = self._stores.get_store(store_id)
            if store is None:
                raise StoreNotFound(f"store {store_id} is not a store of this chain", field="store_id")
        standing = self._ledger.standing(member_id)
        if not standing.exists:
            raise MemberNotFound(f"member {member_id} does not exist")
        counts = self._rewards.redeemed_counts(member_id)
        now = self._clock.now()
        items = []
        for reward, stock_left in self._rewards.catalogue():
            gaps = missing(reward, tier=standing.tier, store=store, now=now, available=standing.available,
                           debt=standing.debt, quantity=1, stock_left=stock_left,
                           redeemed=counts.get(reward.reward_id, 0))
            items.append(RewardOption(reward=reward_view(reward, stock_left), redeemable=not gaps, missing=gaps))
        return MemberRewards(member_id=member_id, tier=standing.tier, available=max(standing.available, 0),
                             store_id=store_id, items=items)

    def redeem(self, member_id: str, request: RedemptionRequest,
               client: ClientIdentity) -> SpendingOutcome[RedemptionResult]:
        """In ONE transaction: the points (soonest-expiring first), the stock, the per-member count, the
        redemption and its vouchers. Idempotent by redemption_id for good; refusals write nothing."""
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        store = self._stores.get_store(request.store_id)
        if store is None:
            raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
        record_read = self._rewards.read_redemption(member_id, request.redemption_id)
        key = BusinessKey(scope=f"redemption:{member_id}", key=request.redemption_id, record=record_read,
                          request_hash=payload_hash(canonical(request.model_dump())), conflict_field="redemption_id")
        codes = [self._new_code() for _ in range(request.quantity)]

        def draft(account: PointsAccount, now: datetime) -> SpendingChange[RedemptionResult]:
            if not account.standing.exists:
                raise MemberNotFound(f"member {member_id} does not exist")
            found = account.found["reward"]
            if found is None:
                raise RewardNotFound(f"there is no reward {request.reward_id}", field="reward_id")
            reward: Reward = found
            gaps = [g for g in missing(reward, tier=account.standing.tier, store=store, now=now,
                                       available=account.standing.available, debt=0, quantity=request.quantity,
                                       stock_left=None, redeemed=0) if g.reason not in ("points",)]
            if gaps:  # points, debt, stock and the member's count are checked by the write itself
                raise RewardNotAvailable(gaps[0].message, field="reward_id",
                                         details={"reasons": [g.reason for g in gaps]})
            points = reward.points_cost * request.quantity
            spent = account.spend(points, reference_kind="redemption", reference_id=request.redemption_id,
                                  reason=f"{reward.name.en} x{request.quantity} at {request.store_id}",
                                  store_id=request.store_id)
            vouchers = []
            if reward.kind == RewardKind.VOUCHER:
                vouchers = [voucher_for(code=code, member_id=member_id, title=reward.name, terms=reward.voucher,
                                        source=VoucherSource(kind="redemption", id=request.redemption_id),
                                        reward_id=reward.reward_id, now=now) for code in codes]
            record = RedemptionRecord(
                redemption_id=request.redemption_id, member_id=member_id, reward_id=reward.reward_id,
                reward_name=reward.name, kind=reward.kind, quantity=request.quantity, points=points,
                store_id=request.store_id, channel=request.channel, redeemed_at=now, spent=spent.body(),
                voucher_codes=[v.code for v in vouchers], stock_tracked=reward.stock is not None,
                limit_counted=reward.per_member_limit is not None)
            writes = [self._rewards.put_redemption(record)]
            if record.stock_tracked:
                writes.append(self._rewards.take_stock(reward.reward_id, request.quantity))
            if record.limit_counted:
                writes.append(self._rewards.count_redeemed(member_id, reward.reward_id, request.quantity,
                                                           reward.per_member_limit))
            writes += [self._rewards.put_voucher(v) for v in vouchers]
            event = RewardRedeemed(occurred_at=now, member_id=member_id, redemption_id=request.redemption_id,
                                   reward_id=reward.reward_id, kind=reward.kind.value, quantity=request.quantity,
                                   points=points, store_id=request.store_id, channel=request.channel,
                                   vouchers_issued=len(vouchers), origins=dict(spent.origins))
            return SpendingChange(_redemption_result(record, vouchers, account), writes, [event])

        return self._ledger.run(member_id, RedemptionResult, draft, key=key,
                                reads={"reward": self._rewards.read_reward(request.reward_id)})

    def cancel(self, member_id: str, redemption_id: str, client: ClientIdentity) -> SpendingOutcome[RedemptionResult]:
        """Give the points and the stock back exactly once and void the vouchers (none may be used).
        Cancelling again answers the cancellation (200)."""
        client.require(Scope.POINTS_WRITE)

        def draft(account: PointsAccount, now: datetime) -> SpendingChange[RedemptionResult]:
            record: RedemptionRecord | None = account.found["redemption"]
            if record is None:
                raise RedemptionNotFound(f"member {member_id} has no redemption {redemption_id}")
            client.require_store(record.store_id)
            if record.status == "cancelled":  # the cancel's own answer: the balance read beside the record
                # may predate it (a batch read is not isolated from the transaction that cancelled it)
                answer = _redemption_result(record, [], account, returned=record.points)
                if record.cancel_balance is not None:
                    answer = answer.model_copy(update={"balance": Balance.model_validate(record.cancel_balance)})
                return SpendingChange(answer, writes=None)
            returned = account.give_back(SpentPoints(**record.spent), reference_kind="redemption",
                                         reference_id=redemption_id, store_id=record.store_id,
                                         reason=f"redemption {redemption_id} cancelled")
            cancelled = record.model_copy(update={"status": "cancelled", "cancelled_at": now,
                                                  "version": record.version + 1})
            answer = _redemption_result(cancelled, [], account, returned=record.points)
            cancelled = cancelled.model_copy(update={"cancel_balance": answer.balance.model_dump(mode="json")})
            writes = [self._rewards.cancel_redemption(record, cancelled)]
            writes += [self._rewards.void_voucher(code, member_id) for code in record.voucher_codes]
            if record.stock_tracked:
                writes.append(self._rewards.return_stock(record.reward_id, record.quantity))
            if record.limit_counted:
                writes.append(self._rewards.uncount_redeemed(member_id, record.reward_id, record.quantity))
            event = RedemptionCancelled(occurred_at=now, member_id=member_id, redemption_id=redemption_id,
                                        reward_id=record.reward_id, points=record.points, store_id=record.store_id)
            del returned  # debt, if any, took its share: the ledger entries say so
            return SpendingChange(answer, writes, [event])

        return self._ledger.run(member_id, RedemptionResult, draft, member=False,  # the record says it all
                                reads={"redemption": self._rewards.read_redemption(member_id, redemption_id)})


def _redemption_result(record: RedemptionRecord, vouchers: list[Voucher], account: PointsAccount,
                       returned: int | None = None) -> RedemptionResult:
    return RedemptionResult(
        redemption_id=record.redemption_id, member_id=record.member_id, reward_id=record.reward_id,
        reward_name=record.reward_name, kind=record.kind, quantity=record.quantity, points=record.points,
        store_id=record.store_id, channel=record.channel, status=record.status, redeemed_at=record.redeemed_at,
        cancelled_at=record.cancelled_at, vouchers=[voucher_view(v) for v in vouchers], points_returned=returned,
        balance=Balance.model_validate(account.balance_after()), entry_ids=account.entry_ids())


class VoucherWallet:
    """A member's vouchers: listed, used on an order exactly once, released when the order is cancelled;
    and issued by other capabilities through kernel.vouchers.VoucherIssuer."""

    def __init__(self, vouchers: VoucherRepository, stores: StoreDirectory, clock: Clock,
                 new_code: Callable[[], str] = new_voucher_code):
        self._vouchers = vouchers
        self._stores = stores
        self._clock = clock
        self._new_code = new_code

    def wallet(self, member_id: str, client: ClientIdentity, *, status: str | None = None, limit: int = 20,
               cursor: str | None = None) -> VoucherPage:
        client.require(Scope.POINTS_READ)
        items, next_cursor = self._vouchers.wallet(member_id, status=status, limit=limit, cursor=cursor)
        return VoucherPage(member_id=member_id, items=[voucher_view(v) for v in items], next_cursor=next_cursor)

    def use(self, code: str, request: VoucherUseRequest, client: ClientIdentity) -> tuple[VoucherUseResult, bool]:
        """Use the voucher on an order, exactly once; the same order asking again gets the same answer
        (created False). Checks: the member's, valid now and at this store, minimum spend, not used."""
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        store = self._stores.get_store(request.store_id)
        if store is None:
            raise StoreNotFound(f"store {request.store_id} is not a store of this chain", field="store_id")
        code = normalise_code(code)
        for _attempt in range(VOUCHER_ATTEMPTS):
            voucher = self._get(request.member_id, code)
            now = self._clock.now()
            if voucher.status == "used":
                if voucher.use.order_id == request.order_id and voucher.use.store_id == request.store_id:
                    return _use_result(voucher), False
                raise VoucherAlreadyUsed(f"voucher {code} was used on order {voucher.use.order_id}",
                                         details={"order_id": voucher.use.order_id, "store_id": voucher.use.store_id})
            if voucher.status == "voided":
                raise VoucherVoided(f"voucher {code} was voided")
            if now < voucher.valid_from:
                raise VoucherNotYetValid(f"voucher {code} is valid from {voucher.valid_from.isoformat()}")
            if now >= voucher.valid_until:
                raise VoucherExpired(f"voucher {code} expired at {voucher.valid_until.isoformat()}")
            if not voucher.terms.valid_at(store):
                raise VoucherNotValidHere(f"voucher {code} cannot be used at {request.store_id}", field="store_id")
            if request.order_total < voucher.terms.min_spend:
                raise MinimumSpendNotMet(f"voucher {code} needs an order of at least {voucher.terms.min_spend}",
                                         field="order_total", details={"min_spend": str(voucher.terms.min_spend)})
            discount = voucher.terms.discount_on(request.order_total)
            used = voucher.model_copy(update={
                "status": "used", "version": voucher.version + 1,
                "use": VoucherUse(store_id=request.store_id, order_id=request.order_id,
                                  order_total=request.order_total, discount=discount, used_at=now)})
            event = VoucherUsed(occurred_at=now, member_id=voucher.member_id, reward_id=voucher.reward_id,
                                store_id=request.store_id, order_id=request.order_id, discount=discount)
            try:
                self._vouchers.change(voucher, used, event)
            except StaleVoucher:
                continue  # used or released concurrently: decide again on what is stored now
            return _use_result(used), True
        raise VoucherAlreadyUsed(f"voucher {code} kept changing; read it again")

    def release(self, code: str, request: VoucherReleaseRequest, client: ClientIdentity) -> VoucherView:
        """The order was cancelled: the voucher can be used again (until it expires). Releasing a voucher
        this order no longer holds answers its state."""
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        code = normalise_code(code)
        for _attempt in range(VOUCHER_ATTEMPTS):
            voucher = self._get(request.member_id, code)
            if voucher.status == "voided":
                raise VoucherVoided(f"voucher {code} was voided")
            if voucher.status == "issued":
                return voucher_view(voucher)
            if voucher.use.order_id != request.order_id or voucher.use.store_id != request.store_id:
                raise VoucherAlreadyUsed(f"voucher {code} is used on another order",
                                         details={"order_id": voucher.use.order_id, "store_id": voucher.use.store_id})
            released = voucher.model_copy(update={"status": "issued", "use": None, "version": voucher.version + 1})
            event = VoucherReleased(occurred_at=self._clock.now(), member_id=voucher.member_id,
                                    store_id=request.store_id, order_id=request.order_id)
            try:
                self._vouchers.change(voucher, released, event)
            except StaleVoucher:
                continue
            return voucher_view(released)
        raise VoucherAlreadyUsed(f"voucher {code} kept changing; read it again")

    def issue(self, member_id: str, grant: VoucherGrant) -> str:
        """kernel.vouchers.VoucherIssuer: once per (member, issue_key)."""
        try:
            terms = VoucherTerms.model_validate(grant.terms)
            title = Names(zh=grant.title_zh, en=grant.title_en)
        except ValidationError as error:
            raise InvalidInput(f"voucher grant {grant.issue_key}: {error.errors()[0]['msg']}", field="terms") from None
        now = self._clock.now()
        voucher = voucher_for(code=self._new_code(), member_id=member_id, title=title, terms=terms,
                              source=VoucherSource(kind=grant.source_kind, id=grant.source_id), reward_id=None,
                              now=now)
        claim = IdempotencyClaim(scope=f"voucher:{member_id}", key=grant.issue_key,
                                 request_hash=payload_hash(canonical({"grant": grant.__dict__})),
                                 response={"code": voucher.code}, conflict_field="issue_key")
        event = VoucherIssued(occurred_at=now, member_id=member_id, source_kind=grant.source_kind,
                              source_id=grant.source_id, valid_until=voucher.valid_until.isoformat())
        return self._vouchers.issue(voucher, claim, event).code

    holds = "vouchers"

    def forget_member(self, member_id: str) -> int:
        """kernel.ports.MemberDataHolder: the member's erasure revokes every voucher not yet used (used
        ones stay, as the orders' discounts they were)."""
        revoked = 0
        cursor = None
        while True:
            page, cursor = self._vouchers.wallet(member_id, status="issued", limit=100, cursor=cursor)
            for voucher in page:
                voided = voucher.model_copy(update={"status": "voided", "version": voucher.version + 1})
                event = VoucherRevoked(occurred_at=self._clock.now(), member_id=member_id, reason="member_erased")
                try:
                    self._vouchers.change(voucher, voided, event)
                    revoked += 1
                except StaleVoucher:
                    pass  # used meanwhile: it stays used
            if cursor is None:
                return revoked

    def _get(self, member_id: str, code: str) -> Voucher:
        voucher = self._vouchers.get(member_id, code)
        if voucher is None:
            raise VoucherNotFound(f"member {member_id} has no voucher {code}")
        return voucher


def _use_result(voucher: Voucher) -> VoucherUseResult:
    return VoucherUseResult(voucher=voucher_view(voucher), discount=voucher.use.discount,
                            free_item_sku=voucher.terms.free_item_sku)
