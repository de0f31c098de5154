"""Typed domain errors. Each carries a stable machine-readable code; HTTP mapping lives in loyalty.api.errors."""
from __future__ import annotations


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"


class StoreNotFound(InvalidInput):
    """An unknown store in a request body is bad input (422-class), not a missing resource."""

    code = "UNKNOWN_STORE"


class Conflict(DomainError):
    code = "CONFLICT"


class PhoneAlreadyEnrolled(Conflict):
    code = "PHONE_ALREADY_ENROLLED"


class EmailAlreadyEnrolled(Conflict):
    code = "EMAIL_ALREADY_ENROLLED"


class IdempotencyKeyReused(Conflict):
    """The same idempotency key (or business key) arrived with a different payload."""

    code = "IDEMPOTENCY_KEY_REUSED"


class ConcurrentUpdate(Conflict):
    code = "CONCURRENT_UPDATE"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class StoreNotAllowed(Forbidden):
    code = "STORE_NOT_ALLOWED"


class MissingScope(Forbidden):
    code = "MISSING_SCOPE"


class InsufficientPoints(Conflict):
    code = "INSUFFICIENT_POINTS"


class BusinessRuleViolation(DomainError):
    """A well-formed request the program's rules refuse (late purchase, over-return, cap...)."""

    code = "BUSINESS_RULE_VIOLATION"


class FeedbackNotFound(NotFound):
    code = "FEEDBACK_NOT_FOUND"


class InvalidTransition(Conflict):
    """A workflow step the item's current status does not allow (e.g. anything after resolved)."""

    code = "INVALID_STATUS_TRANSITION"


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
