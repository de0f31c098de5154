"""Errors of earning, returns, adjustments and the program rules."""
from __future__ import annotations

from loyalty.kernel.errors import BusinessRuleViolation, ConcurrentUpdate, Conflict, InvalidInput, NotFound


class InsufficientPoints(Conflict):
    code = "INSUFFICIENT_POINTS"


class MemberInDebt(BusinessRuleViolation):
    """Debt from earlier returns is repaid by the next points earned, before any spending."""

    code = "MEMBER_IN_DEBT"


# -- points -------------------------------------------------------------------------------------------
class PurchaseNotFound(NotFound):
    code = "PURCHASE_NOT_FOUND"


class UnsupportedCurrency(InvalidInput):
    code = "UNSUPPORTED_CURRENCY"


class UnknownActivityType(InvalidInput):
    code = "UNKNOWN_ACTIVITY_TYPE"


class RulesVersionConflict(ConcurrentUpdate):
    """The program rules changed since the version the editor started from."""

    code = "RULES_VERSION_CONFLICT"


class SubmittedTooLate(BusinessRuleViolation):
    """An offline purchase (or activity) posted after the program's late-posting window."""

    code = "SUBMITTED_TOO_LATE"


class OccurredInFuture(BusinessRuleViolation):
    code = "OCCURRED_IN_FUTURE"


class ReturnExceedsPurchase(BusinessRuleViolation):
    code = "RETURN_EXCEEDS_PURCHASE"


class ActivityCapReached(BusinessRuleViolation):
    code = "ACTIVITY_CAP_REACHED"


class ReturnBeforePurchase(BusinessRuleViolation):
    code = "RETURN_BEFORE_PURCHASE"


# -- points payments ------------------------------------------------------------------------------------
class PointsPaymentNotFound(NotFound):
    code = "POINTS_PAYMENT_NOT_FOUND"


class PaymentAlreadyCaptured(Conflict):
    code = "PAYMENT_ALREADY_CAPTURED"


class PaymentAlreadyVoided(Conflict):
    """Voided by the till, or released because it was neither captured nor voided in time."""

    code = "PAYMENT_ALREADY_VOIDED"


class PointsPaymentOverLimit(BusinessRuleViolation):
    code = "POINTS_PAYMENT_OVER_LIMIT"


class PointsNotWholeCents(BusinessRuleViolation):
    code = "POINTS_NOT_WHOLE_CENTS"


class PointsPaymentNotCaptured(BusinessRuleViolation):
    code = "POINTS_PAYMENT_NOT_CAPTURED"
