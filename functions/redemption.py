"""Spending points anywhere in the chain: what a member can redeem, redemptions and their cancellation,
the voucher wallet (list, use on an order, release), and points paying part of an order at the till."""
from typing import Annotated, Literal, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.kernel.identity import Scope
from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.observability import make_tracer
from loyalty.platform.schemas import errors, json_content
from loyalty.points.requests import PointsPaymentRequest
from loyalty.points.results import PointsPaymentResult
from loyalty.rewards.requests import RedemptionRequest, VoucherReleaseRequest, VoucherUseRequest
from loyalty.rewards.results import MemberRewards, RedemptionResult, VoucherPage, VoucherUseResult, VoucherView
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]
BusinessId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]
VoucherCode = Annotated[str, Path(min_length=12, max_length=20, pattern=r"^[0-9A-Za-z\- ]+$")]
StoreQuery = Annotated[Optional[str], Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
REPLAY_CONFLICTS = ("IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE")


def _written(result: type, created: str, **error_codes) -> dict:
    return {201: json_content(result, created), 200: json_content(result, "Asked before: the same answer"),
            **errors(**error_codes)}


def _answer(result, created: bool, metric: str, log: str, *, new_status: int = 201, **extra):
    logger.info(log, extra={"replay": not created, **extra})
    if created:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return json_response(new_status if created else 200, result)


def _changed(result: type, done: str, **error_codes) -> dict:
    return {200: json_content(result, f"{done} (or {done.lower()} before: the same answer)"), **errors(**error_codes)}


# -- rewards and redemptions --------------------------------------------------------------------
@router.get(
    "/v1/members/<member_id>/rewards",
    summary="What the member can redeem now, and what is missing for the rest",
    description="With store_id, rewards limited to other stores or cities show as missing `store`.",
    tags=["rewards"],
    responses={200: json_content(MemberRewards, "Every reward with redeemable and missing"),
               **errors(bad_request=("UNKNOWN_STORE",), not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_member_rewards(member_id: MemberId, store_id: StoreQuery = None):
    return json_response(200, services().redemptions.options(member_id, caller(router), store_id=store_id))


@router.post(
    "/v1/members/<member_id>/redemptions",
    summary="Redeem a reward with points",
    description="One transaction: the points (soonest-expiring first), the stock, the per-member limit, the "
                "redemption and, for voucher rewards, the vouchers in the member's wallet. Idempotent by "
                "redemption_id for good; the same id with another body is 409 IDEMPOTENCY_KEY_REUSED. A refusal "
                "writes nothing.",
    tags=["rewards"],
    responses=_written(RedemptionResult, "Redeemed", bad_request=("UNKNOWN_STORE",),
                       not_found=("MEMBER_NOT_FOUND", "REWARD_NOT_FOUND"),
                       conflict=("INSUFFICIENT_POINTS", "REWARD_OUT_OF_STOCK", *REPLAY_CONFLICTS),
                       refused=("REWARD_NOT_AVAILABLE", "REDEMPTION_LIMIT_REACHED", "MEMBER_IN_DEBT")),
)
def post_redemption(member_id: MemberId, request: RedemptionRequest):
    outcome = services().redemptions.redeem(member_id, request, caller(router))
    return _answer(outcome.result, outcome.created, "RewardsRedeemed", "redemption", member_id=member_id,
                   reward_id=request.reward_id, points=outcome.result.points)


@router.post(
    "/v1/members/<member_id>/redemptions/<redemption_id>/cancel",
    summary="Cancel a redemption: points and stock back exactly once, vouchers voided",
    description="A redemption whose voucher was used cannot be cancelled (409 VOUCHER_ALREADY_USED). Cancelling "
                "again answers the cancellation (200).",
    tags=["rewards"],
    responses=_changed(RedemptionResult, "Cancelled", not_found=("REDEMPTION_NOT_FOUND",),
                       conflict=("VOUCHER_ALREADY_USED", "CONCURRENT_UPDATE"), body=False),
)
def post_redemption_cancel(member_id: MemberId, redemption_id: BusinessId):
    outcome = services().redemptions.cancel(member_id, redemption_id, caller(router))
    return _answer(outcome.result, outcome.created, "RedemptionsCancelled", "redemption cancelled",
                   new_status=200, member_id=member_id, redemption_id=redemption_id)


# -- vouchers -------------------------------------------------------------------------------------
@router.get(
    "/v1/members/<member_id>/vouchers",
    summary="The member's voucher wallet",
    tags=["vouchers"],
    responses={200: json_content(VoucherPage, "A page of vouchers"), **errors(body=False)},
)
def get_vouchers(
    member_id: MemberId,
    status: Annotated[Optional[Literal["issued", "used", "voided"]], Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=1024)] = None,
):
    page = services().voucher_wallet.wallet(member_id, caller(router), status=status, limit=limit, cursor=cursor)
    return json_response(200, page)


@router.post(
    "/v1/vouchers/<code>/use",
    summary="Use a voucher on an order (POS or webshop)",
    description="Checked: the member's, valid now and at this store, minimum spend met, not used. Exactly once "
                "under concurrent use; the same order asking again gets the same answer (200).",
    tags=["vouchers"],
    responses=_written(VoucherUseResult, "Used: the discount to apply", bad_request=("UNKNOWN_STORE",),
                       not_found=("VOUCHER_NOT_FOUND",), conflict=("VOUCHER_ALREADY_USED", "VOUCHER_VOIDED"),
                       refused=("VOUCHER_EXPIRED", "VOUCHER_NOT_YET_VALID", "VOUCHER_NOT_VALID_HERE",
                                "MIN_SPEND_NOT_MET")),
)
def post_voucher_use(code: VoucherCode, request: VoucherUseRequest):
    result, created = services().voucher_wallet.use(code, request, caller(router))
    return _answer(result, created, "VouchersUsed", "voucher used", member_id=request.member_id,
                   order_id=request.order_id)


@router.post(
    "/v1/vouchers/<code>/release",
    summary="Release a voucher when its order is cancelled",
    tags=["vouchers"],
    responses={200: json_content(VoucherView, "The voucher, usable again"),
               **errors(not_found=("VOUCHER_NOT_FOUND",), conflict=("VOUCHER_ALREADY_USED", "VOUCHER_VOIDED"))},
)
def post_voucher_release(code: VoucherCode, request: VoucherReleaseRequest):
    return json_response(200, services().voucher_wallet.release(code, request, caller(router)))


# -- points at the till ----------------------------------------------------------------------------
@router.post(
    "/v1/members/<member_id>/points-payments",
    summary="Reserve points to pay part of an order",
    description="The points leave available for reserved and the answer says what they are worth. Capture when "
                "the order completes, void when it is abandoned; a reservation left alone is released after the "
                "program's points_payment_hold_minutes. Idempotent by payment_id for good.",
    tags=["points payments"],
    responses=_written(PointsPaymentResult, "Reserved", bad_request=("UNKNOWN_STORE", "UNSUPPORTED_CURRENCY"),
                       not_found=("MEMBER_NOT_FOUND",), conflict=("INSUFFICIENT_POINTS", *REPLAY_CONFLICTS),
                       refused=("POINTS_PAYMENT_OVER_LIMIT", "POINTS_NOT_WHOLE_CENTS", "MEMBER_IN_DEBT")),
)
def post_points_payment(member_id: MemberId, request: PointsPaymentRequest):
    outcome = services().points_payments.reserve(member_id, request, caller(router))
    return _answer(outcome.result, outcome.created, "PointsReserved", "points reserved", member_id=member_id,
                   points=outcome.result.points)


@router.post(
    "/v1/members/<member_id>/points-payments/<payment_id>/capture",
    summary="Capture reserved points: the order is paid",
    tags=["points payments"],
    responses=_changed(PointsPaymentResult, "Captured", not_found=("POINTS_PAYMENT_NOT_FOUND",),
                       conflict=("PAYMENT_ALREADY_VOIDED", "CONCURRENT_UPDATE"), body=False),
)
def post_points_payment_capture(member_id: MemberId, payment_id: BusinessId):
    outcome = services().points_payments.capture(member_id, payment_id, caller(router))
    return _answer(outcome.result, outcome.created, "PointsCaptured", "points captured", new_status=200,
                   member_id=member_id)


@router.post(
    "/v1/members/<member_id>/points-payments/<payment_id>/void",
    summary="Void reserved points: the order was abandoned",
    tags=["points payments"],
    responses=_changed(PointsPaymentResult, "Voided", not_found=("POINTS_PAYMENT_NOT_FOUND",),
                       conflict=("PAYMENT_ALREADY_CAPTURED", "CONCURRENT_UPDATE"), body=False),
)
def post_points_payment_void(member_id: MemberId, payment_id: BusinessId):
    outcome = services().points_payments.void(member_id, payment_id, caller(router))
    return _answer(outcome.result, outcome.created, "PointsVoided", "points voided", new_status=200,
                   member_id=member_id)


SCOPES = {  # checked before the body is read: the route alone decides
    "GET /v1/members/{member_id}/rewards": Scope.POINTS_READ,
    "POST /v1/members/{member_id}/redemptions": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/redemptions/{redemption_id}/cancel": Scope.POINTS_WRITE,
    "GET /v1/members/{member_id}/vouchers": Scope.POINTS_READ,
    "POST /v1/vouchers/{code}/use": Scope.POINTS_WRITE,
    "POST /v1/vouchers/{code}/release": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/points-payments": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/points-payments/{payment_id}/capture": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/points-payments/{payment_id}/void": Scope.POINTS_WRITE,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
