"""The one place that maps errors to HTTP statuses and the one error body shape:

    {"error": {"code": "PHONE_ALREADY_ENROLLED", "message": "...", "field": "phone", "details": {}}}
"""
from __future__ import annotations

from loyalty.domain import errors as e

STATUS_BY_ERROR: list[tuple[type[e.DomainError], int]] = [
    (e.MemberNotFound, 404),
    (e.NotFound, 404),
    (e.StoreNotFound, 400),
    (e.InvalidInput, 400),
    (e.Forbidden, 403),
    (e.InsufficientPoints, 409),
    (e.Conflict, 409),
    (e.BusinessRuleViolation, 422),
]


class Unauthorized(e.DomainError):
    code = "UNAUTHORIZED"


class PayloadTooLarge(e.DomainError):
    code = "PAYLOAD_TOO_LARGE"


class MalformedJson(e.InvalidInput):
    code = "MALFORMED_JSON"


class ValidationFailed(e.InvalidInput):
    code = "VALIDATION_FAILED"


EDGE_STATUS: list[tuple[type[e.DomainError], int]] = [(Unauthorized, 401), (PayloadTooLarge, 413)]


def status_for(error: e.DomainError) -> int:
    for cls, status in EDGE_STATUS + STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def error_body(code: str, message: str, field: str | None = None, details: dict | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    if details:
        body["details"] = details
    return {"error": body}


def body_for(error: e.DomainError) -> dict:
    return error_body(error.code, error.message, error.field, error.details)
