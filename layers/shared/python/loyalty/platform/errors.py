"""The one place that maps errors to HTTP statuses and the one error body shape:

    {"error": {"code": "PHONE_ALREADY_ENROLLED", "message": "...", "field": "phone", "details": {}}}
"""
from __future__ import annotations

from loyalty.feedback import errors as feedback
from loyalty.kernel import errors as e
from loyalty.members import errors as members
from loyalty.insight import errors as insight
from loyalty.kpis import errors as kpis
from loyalty.points import errors as points
from loyalty.rewards import errors as rewards
from loyalty.tiers import errors as tiers


class Unauthorized(e.DomainError):
    code = "UNAUTHORIZED"


class PayloadTooLarge(e.DomainError):
    code = "PAYLOAD_TOO_LARGE"


class MalformedJson(e.InvalidInput):
    code = "MALFORMED_JSON"


class ValidationFailed(e.InvalidInput):
    code = "VALIDATION_FAILED"


# Every error class is listed: a new error without a status fails tests/unit/test_error_mapping.py.
STATUS_BY_ERROR: dict[type[e.DomainError], int] = {
    e.InvalidInput: 400,
    e.StoreNotFound: 400,
    MalformedJson: 400,
    ValidationFailed: 400,
    points.UnsupportedCurrency: 400,
    points.UnknownActivityType: 400,
    tiers.UnknownTier: 400,
    Unauthorized: 401,
    e.Forbidden: 403,
    e.StoreNotAllowed: 403,
    e.MissingScope: 403,
    e.NotFound: 404,
    e.MemberNotFound: 404,
    members.ExportNotFound: 404,
    points.PurchaseNotFound: 404,
    points.PointsPaymentNotFound: 404,
    feedback.FeedbackNotFound: 404,
    rewards.RewardNotFound: 404,
    rewards.RedemptionNotFound: 404,
    rewards.VoucherNotFound: 404,
    e.Gone: 410,
    e.MemberErased: 410,
    e.Conflict: 409,
    e.IdempotencyKeyReused: 409,
    e.ConcurrentUpdate: 409,
    members.PhoneAlreadyEnrolled: 409,
    members.EmailAlreadyEnrolled: 409,
    points.InsufficientPoints: 409,
    points.RulesVersionConflict: 409,
    tiers.LadderVersionConflict: 409,
    points.PaymentAlreadyCaptured: 409,
    points.PaymentAlreadyVoided: 409,
    feedback.InvalidTransition: 409,
    feedback.ReopenWindowClosed: 409,
    rewards.RewardExists: 409,
    rewards.RewardVersionConflict: 409,
    rewards.StockBelowTaken: 409,
    rewards.RewardOutOfStock: 409,
    rewards.VoucherAlreadyUsed: 409,
    rewards.VoucherVoided: 409,
    PayloadTooLarge: 413,
    e.BusinessRuleViolation: 422,
    points.SubmittedTooLate: 422,
    points.OccurredInFuture: 422,
    points.ReturnExceedsPurchase: 422,
    points.ActivityCapReached: 422,
    points.ReturnBeforePurchase: 422,
    points.MemberInDebt: 422,
    points.PointsPaymentOverLimit: 422,
    points.PointsNotWholeCents: 422,
    points.PointsPaymentNotCaptured: 422,
    tiers.NoMonthlyVoucher: 422,
    tiers.NotBirthdayMonth: 422,
    kpis.ReconciliationNotFound: 404,
    insight.InsightNotFound: 404,
    insight.ChurnRiskNotFound: 404,
    insight.TagRulesVersionConflict: 409,
    rewards.RewardNotAvailable: 422,
    rewards.RedemptionLimitReached: 422,
    rewards.VoucherExpired: 422,
    rewards.VoucherNotYetValid: 422,
    rewards.VoucherNotValidHere: 422,
    rewards.MinimumSpendNotMet: 422,
}


def status_for(error: e.DomainError) -> int:
    """The status of the error's own class; a class missing from the table (which a test forbids)
    answers as its nearest listed ancestor."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    raise LookupError(f"no HTTP status for {type(error).__name__}")


def error_body(code: str, message: str, field: str | None = None, details: dict | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    if details:
        body["details"] = details
    return {"error": body}


def body_for(error: e.DomainError) -> dict:
    return error_body(error.code, error.message, error.field, error.details)
