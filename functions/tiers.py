"""Tiers: the ladder (back office), a member's benefits and progress, tier history, changes by hand."""
from typing import Annotated, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from loyalty.kernel.identity import Scope
from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.observability import make_tracer
from loyalty.platform.schemas import errors, json_content
from loyalty.tiers.ladder import Ladder, LadderInput
from loyalty.tiers.requests import BirthdayClaimRequest, ManualTierRequest
from loyalty.tiers.results import BenefitsView, BirthdayBenefitResult, ManualTierResult, MonthlyVoucherResult, TierHistoryPage
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]


@router.get(
    "/v1/tiers/ladder",
    summary="The tier ladder: tiers, criteria, benefits, review policy",
    description="The built-in ladder (version 0) until one is stored. Needs the program:admin scope.",
    tags=["tiers"],
    responses={200: json_content(Ladder, "The ladder in force"), **errors(body=False)},
)
def get_ladder():
    return json_response(200, services().tier_admin.ladder(caller(router)))


@router.put(
    "/v1/tiers/ladder",
    summary="Replace the tier ladder",
    description="Send the whole ladder, lowest tier first, with the version you started from; 409 "
                "LADDER_VERSION_CONFLICT when it changed meanwhile. Thresholds must rise with the ladder. Members "
                "are judged on the new ladder at their next purchase, return, activity or review.",
    tags=["tiers"],
    responses={200: json_content(Ladder, "The stored ladder, with its new version"),
               **errors(conflict=("LADDER_VERSION_CONFLICT",))},
)
def put_ladder(ladder: LadderInput):
    client = caller(router)
    stored = services().tier_admin.replace_ladder(ladder, client)
    logger.info("tier ladder replaced", extra={"version": stored.version, "client_id": client.client_id})
    return json_response(200, stored)


@router.get(
    "/v1/members/<member_id>/benefits",
    summary="A member's tier, its benefits, and what is missing for the next tier",
    tags=["tiers"],
    responses={200: json_content(BenefitsView, "What a till or the app shows"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_benefits(member_id: MemberId):
    return json_response(200, services().tier_queries.benefits(member_id, caller(router)))


@router.post(
    "/v1/members/<member_id>/benefits/monthly-voucher",
    summary="Put this month's voucher of the member's tier into the wallet",
    description="Once per member, tier and month: asking again answers the same voucher code.",
    tags=["tiers"],
    responses={200: json_content(MonthlyVoucherResult, "The voucher's code"),
               **errors(not_found=("MEMBER_NOT_FOUND",), refused=("NO_MONTHLY_VOUCHER",), body=False)},
)
def post_monthly_voucher(member_id: MemberId):
    return json_response(200, services().tier_queries.claim_monthly_voucher(member_id, caller(router)))


@router.post(
    "/v1/members/<member_id>/benefits/birthday",
    summary="Give the member their tier's birthday benefit (in the birthday month, once a year)",
    description="In the member's birthday month (the program's time zone): the tier's bonus points into the ledger "
                "(PointsEarned.v1, kind birthday, credited to the store named) and its birthday voucher into the "
                "wallet. Asking again that year answers the same voucher and gives no second bonus; outside the "
                "month, or with no birthday on file, 422 NOT_BIRTHDAY_MONTH.",
    tags=["tiers"],
    responses={200: json_content(BirthdayBenefitResult, "What the benefit gave"),
               **errors(not_found=("MEMBER_NOT_FOUND",), refused=("NOT_BIRTHDAY_MONTH",))},
)
def post_birthday_benefit(member_id: MemberId, request: BirthdayClaimRequest):
    client = caller(router)
    result = services().tier_queries.claim_birthday_benefit(member_id, request, client)
    logger.info("birthday benefit", extra={"member_id": member_id, "tier": result.tier, "year": result.year,
                                           "bonus_given_now": result.bonus_given_now, "client_id": client.client_id})
    return json_response(200, result)


@router.get(
    "/v1/members/<member_id>/tier-history",
    summary="Every tier change of a member, newest first, with its reason",
    tags=["tiers"],
    responses={200: json_content(TierHistoryPage, "A page of tier changes"),
               **errors(not_found=("MEMBER_NOT_FOUND",), body=False)},
)
def get_tier_history(
    member_id: MemberId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=1024)] = None,
):
    page = services().tier_queries.history(member_id, caller(router), limit=limit, cursor=cursor)
    return json_response(200, page)


@router.put(
    "/v1/members/<member_id>/tier",
    summary="Set a member's tier by hand, optionally locked until a date (back office)",
    description="VIP care or complaint recovery: the tier is set at once (TierChanged.v1, reason manual) and, with "
                "lock_until, reviews leave the member alone through that day; the day after, the tier is reviewed.",
    tags=["tiers"],
    responses={200: json_content(ManualTierResult, "The tier set"),
               **errors(bad_request=("UNKNOWN_TIER",), not_found=("MEMBER_NOT_FOUND",),
                        conflict=("CONCURRENT_UPDATE",))},
)
def put_tier(member_id: MemberId, request: ManualTierRequest):
    client = caller(router)
    result = services().tier_admin.set_tier(member_id, request, client)
    logger.info("tier set by hand", extra={"member_id": member_id, "tier": result.tier, "client_id": client.client_id})
    return json_response(200, result)


SCOPES = {
    "GET /v1/tiers/ladder": Scope.PROGRAM_ADMIN,
    "PUT /v1/tiers/ladder": Scope.PROGRAM_ADMIN,
    "GET /v1/members/{member_id}/benefits": Scope.POINTS_READ,
    "POST /v1/members/{member_id}/benefits/monthly-voucher": Scope.POINTS_WRITE,
    "POST /v1/members/{member_id}/benefits/birthday": Scope.POINTS_WRITE,
    "GET /v1/members/{member_id}/tier-history": Scope.POINTS_READ,
    "PUT /v1/members/{member_id}/tier": Scope.PROGRAM_ADMIN,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
