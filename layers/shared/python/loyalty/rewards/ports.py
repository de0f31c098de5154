"""What the rewards use cases read and write. The redemption's own writes join the points ledger's one
transaction (kernel.spending), so this repository hands them out as JoinedRead/JoinedWrite values."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.kernel.spending import JoinedRead, JoinedWrite
from loyalty.rewards.domain import RedemptionRecord, Reward, RewardInput, Voucher


class RewardRepository(Protocol):
    def get(self, reward_id: str) -> tuple[Reward, int | None] | None:
        """The reward and its stock left (None when not tracked); None when there is no such reward."""

    def catalogue(self) -> list[tuple[Reward, int | None]]:
        """Every reward with its stock left, in reward id order."""

    def create(self, reward: RewardInput, *, at: datetime) -> Reward:
        """Raises RewardExists."""

    def replace(self, reward: RewardInput, *, at: datetime) -> Reward:
        """Store as version + 1 if the stored version is still `reward.version`. Raises RewardNotFound,
        RewardVersionConflict, StockBelowTaken."""

    def redeemed_counts(self, member_id: str) -> dict[str, int]:
        """Units the member holds of every reward with a per-member limit."""

    # -- a redemption's part of the points transaction ------------------------------------------
    def read_reward(self, reward_id: str) -> JoinedRead: ...

    def read_redemption(self, member_id: str, redemption_id: str) -> JoinedRead: ...

    def put_redemption(self, record: RedemptionRecord) -> JoinedWrite: ...

    def cancel_redemption(self, before: RedemptionRecord, after: RedemptionRecord) -> JoinedWrite: ...

    def take_stock(self, reward_id: str, quantity: int) -> JoinedWrite:
        """Refused with RewardOutOfStock when fewer units are left."""

    def return_stock(self, reward_id: str, quantity: int) -> JoinedWrite: ...

    def count_redeemed(self, member_id: str, reward_id: str, quantity: int, limit: int) -> JoinedWrite:
        """Refused with RedemptionLimitReached when the member would hold more than `limit`."""

    def uncount_redeemed(self, member_id: str, reward_id: str, quantity: int) -> JoinedWrite: ...

    def put_voucher(self, voucher: Voucher) -> JoinedWrite: ...

    def void_voucher(self, voucher_code: str, member_id: str) -> JoinedWrite:
        """Refused with VoucherAlreadyUsed when it was used."""


class StaleVoucher(Exception):
    """The voucher changed since it was read."""


class VoucherRepository(Protocol):
    def get(self, member_id: str, code: str) -> Voucher | None: ...

    def wallet(self, member_id: str, *, status: str | None, limit: int,
               cursor: str | None) -> tuple[list[Voucher], str | None]: ...

    def change(self, before: Voucher, after: Voucher, event: DomainEvent) -> None:
        """Write `after` if the voucher is still at `before.version`, with its event; else StaleVoucher."""

    def issue(self, voucher: Voucher, claim: IdempotencyClaim, event: DomainEvent) -> Voucher:
        """Put a new voucher once per claim; a repeated claim answers the voucher issued first."""
