"""Member insight: a member's behaviour profile, tags, stage and churn risk; the stores' churn-risk lists."""
from typing import Annotated, Literal, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from loyalty.insight.requests import ChurnRiskUpdate, TagDecision
from loyalty.insight.results import ChurnRiskEntry, ChurnRiskPage, InsightView, TagDecisionResult
from loyalty.insight.rules import TagRuleSet, TagRuleSetInput
from loyalty.kernel.identity import Scope
from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.observability import make_tracer
from loyalty.platform.schemas import errors, json_content
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()

MemberId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^mbr_[0-9A-Z]{26}$")]


@router.get(
    "/v1/members/<member_id>/insight",
    summary="A member's behaviour profile, tags, lifecycle stage and churn risk",
    description="Kept from the platform's events within seconds (docs/decisions.md 26): purchases and spend in "
                "rolling windows, average ticket and interval, category, channel and store mix, discount and "
                "new-product shares; the tags of the tag rules (高消费人群, 新品爱好者, 折扣敏感者, 高频/中频/低频...); "
                "the stage (new, growing, mature, declining, churned, won_back). 404 INSIGHT_NOT_FOUND before the "
                "member's first event.",
    tags=["insight"],
    responses={200: json_content(InsightView, "The member's insight"),
               **errors(not_found=("INSIGHT_NOT_FOUND",), body=False)},
)
def get_insight(member_id: MemberId):
    return json_response(200, services().insight.view(member_id, caller(router)))


@router.post(
    "/v1/members/<member_id>/tags",
    summary="Decide a member's tag by hand (add, remove, or clear the decision)",
    description="A decision by hand wins over the tag rules until it is cleared; each one is kept in the member's "
                "tag history with who, when and why.",
    tags=["insight"],
    responses={200: json_content(TagDecisionResult, "The member's tags now, the decisions in force, the history"),
               **errors(not_found=("INSIGHT_NOT_FOUND",), conflict=("CONCURRENT_UPDATE",))},
)
def post_tag_decision(member_id: MemberId, decision: TagDecision):
    client = caller(router)
    result = services().insight.decide_tag(member_id, decision, client)
    logger.info("tag decided", extra={"member_id": member_id, "tag": decision.tag, "action": decision.action,
                                      "client_id": client.client_id})
    return json_response(200, result)


@router.get(
    "/v1/insight/tag-rules",
    summary="The tag rules: each tag's condition over the members' figures",
    description="The built-in rules (version 0: 高消费人群, 新品爱好者, 折扣敏感者, 高频/中频/低频, 大单客户) until "
                "the back office saves its own.",
    tags=["insight"],
    responses={200: json_content(TagRuleSet, "The rules in force"), **errors(body=False)},
)
def get_tag_rules():
    return json_response(200, services().insight.tag_rules(caller(router)))


@router.put(
    "/v1/insight/tag-rules",
    summary="Replace the tag rules",
    description="Send every rule with the version you started from; 409 TAG_RULES_VERSION_CONFLICT when it changed "
                "meanwhile. A condition is {all: [...]}, {any: [...]}, {not: {...}} or {field, op, value} over the "
                "figures of GET /v1/members/{member_id}/insight (and stage, tier, home_store, enrollment_channel, "
                "top_category, frequency, marketing_consent); ops ==, !=, >, >=, <, <=, in. Members are judged on "
                "the new rules at their next event or check.",
    tags=["insight"],
    responses={200: json_content(TagRuleSet, "The stored rules, with their new version"),
               **errors(conflict=("TAG_RULES_VERSION_CONFLICT",))},
)
def put_tag_rules(rules: TagRuleSetInput):
    client = caller(router)
    stored = services().insight.replace_tag_rules(rules, client)
    logger.info("tag rules replaced", extra={"version": stored.version, "client_id": client.client_id})
    return json_response(200, stored)


@router.get(
    "/v1/insight/churn-risk",
    summary="A store's churn-risk list: members who may be leaving, to win back",
    description="Members whose purchases halved, who went quiet for longer than their own usual interval, or "
                "who bought nothing for 180 days, on their home store's list (MemberChurnRisk.v1), newest "
                "member ids first by key. `status` filters (open, contacted, voucher_sent, won_back, dismissed).",
    tags=["insight"],
    responses={200: json_content(ChurnRiskPage, "A page of the list"), **errors(body=False)},
)
def get_churn_risk(
    store_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-*]+$")],
    status: Annotated[Optional[Literal["open", "contacted", "voucher_sent", "won_back", "dismissed"]], Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[Optional[str], Query(min_length=1, max_length=1024)] = None,
):
    page = services().insight.churn_list(store_id, caller(router), status=status, limit=limit, cursor=cursor)
    return json_response(200, page)


@router.patch(
    "/v1/insight/churn-risk/<member_id>",
    summary="Record what the store did about a member at risk",
    tags=["insight"],
    responses={200: json_content(ChurnRiskEntry, "The entry as it now stands"),
               **errors(not_found=("CHURN_RISK_NOT_FOUND",))},
)
def patch_churn_risk(member_id: MemberId, update: ChurnRiskUpdate):
    client = caller(router)
    entry = services().insight.work_churn(member_id, update, client)
    logger.info("churn risk worked", extra={"member_id": member_id, "store_id": entry.store_id,
                                            "status": entry.status, "client_id": client.client_id})
    return json_response(200, entry)


SCOPES = {  # checked before anything else is read
    "GET /v1/members/{member_id}/insight": Scope.INSIGHT_READ,
    "GET /v1/insight/churn-risk": Scope.INSIGHT_READ,
    "POST /v1/members/{member_id}/tags": Scope.INSIGHT_MANAGE,
    "GET /v1/insight/tag-rules": Scope.INSIGHT_MANAGE,
    "PUT /v1/insight/tag-rules": Scope.INSIGHT_MANAGE,
    "PATCH /v1/insight/churn-risk/{member_id}": Scope.INSIGHT_MANAGE,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
