"""Errors of the ladder and of changes by hand."""
from __future__ import annotations

from loyalty.kernel.errors import BusinessRuleViolation, ConcurrentUpdate, InvalidInput


class LadderVersionConflict(ConcurrentUpdate):
    """The ladder changed since the version the editor started from."""

    code = "LADDER_VERSION_CONFLICT"


class UnknownTier(InvalidInput):
    code = "UNKNOWN_TIER"


class NotBirthdayMonth(BusinessRuleViolation):
    """The birthday benefit is given in the member's birthday month only, and needs a birthday on file."""

    code = "NOT_BIRTHDAY_MONTH"


class NoMonthlyVoucher(BusinessRuleViolation):
    """The member's tier gives no monthly voucher."""

    code = "NO_MONTHLY_VOUCHER"
