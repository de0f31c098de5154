"""Typed errors shared by every capability; each capability adds its own in its errors module. Each
carries a stable machine-readable code; the one HTTP mapping lives in loyalty.platform.errors."""
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


class Gone(DomainError):
    code = "GONE"


class MemberErased(Gone):
    """The member's personal data was erased: the id stays in the books, the member answers no more."""

    code = "MEMBER_ERASED"


class StoreNotFound(InvalidInput):
    """An unknown store in a request body is bad input (422-class), not a missing resource."""

    code = "UNKNOWN_STORE"


class Conflict(DomainError):
    code = "CONFLICT"


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


class BusinessRuleViolation(DomainError):
    """A well-formed request the program's rules refuse (late purchase, over-return, cap...)."""

    code = "BUSINESS_RULE_VIOLATION"
