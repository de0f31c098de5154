"""Errors of the reward catalogue, redemptions and vouchers."""
from __future__ import annotations

from loyalty.kernel.errors import BusinessRuleViolation, ConcurrentUpdate, Conflict, NotFound


class RewardNotFound(NotFound):
    code = "REWARD_NOT_FOUND"


class RewardExists(Conflict):
    code = "REWARD_EXISTS"


class RewardVersionConflict(ConcurrentUpdate):
    code = "REWARD_VERSION_CONFLICT"


class StockBelowTaken(Conflict):
    """A reward's stock cannot be set below the units already redeemed."""

    code = "STOCK_BELOW_REDEEMED"


class RewardNotAvailable(BusinessRuleViolation):
    """Not valid for this member's tier, this store or this date, or not offered now."""

    code = "REWARD_NOT_AVAILABLE"


class RewardOutOfStock(Conflict):
    code = "REWARD_OUT_OF_STOCK"


class RedemptionLimitReached(BusinessRuleViolation):
    code = "REDEMPTION_LIMIT_REACHED"


class RedemptionNotFound(NotFound):
    code = "REDEMPTION_NOT_FOUND"


class VoucherNotFound(NotFound):
    code = "VOUCHER_NOT_FOUND"


class VoucherAlreadyUsed(Conflict):
    code = "VOUCHER_ALREADY_USED"


class VoucherVoided(Conflict):
    code = "VOUCHER_VOIDED"


class VoucherExpired(BusinessRuleViolation):
    code = "VOUCHER_EXPIRED"


class VoucherNotYetValid(BusinessRuleViolation):
    code = "VOUCHER_NOT_YET_VALID"


class VoucherNotValidHere(BusinessRuleViolation):
    code = "VOUCHER_NOT_VALID_HERE"


class MinimumSpendNotMet(BusinessRuleViolation):
    code = "MIN_SPEND_NOT_MET"
