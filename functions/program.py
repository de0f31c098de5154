"""The loyalty program as configuration the back office manages: the rules (GET/PUT /v1/program/rules)
and the reward catalogue (/v1/rewards)."""
from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.points.program import ProgramRules, ProgramRulesInput
from loyalty.rewards.domain import RewardInput
from loyalty.rewards.results import RewardList, RewardView
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()


@router.get(
    "/v1/program/rules",
    summary="The program's earning rules",
    description="The built-in defaults (version 0) until rules are stored. Needs the program:admin scope.",
    tags=["program"],
    responses={200: json_content(ProgramRules, "The rules in force"), **errors(body=False)},
)
def get_rules():
    return json_response(200, services().program_admin.rules(caller(router)))


@router.put(
    "/v1/program/rules",
    summary="Replace the program's earning rules",
    description="Send the complete rules with the version you started from; if someone changed them meanwhile "
                "the answer is 409 RULES_VERSION_CONFLICT. Running containers pick the change up within a minute.",
    tags=["program"],
    responses={200: json_content(ProgramRules, "The stored rules, with their new version"), **errors(conflict=("RULES_VERSION_CONFLICT",))},
)
def put_rules(rules: ProgramRulesInput):
    client = caller(router)
    stored = services().program_admin.replace_rules(rules, client)
    logger.info("program rules replaced", extra={"version": stored.version, "client_id": client.client_id})
    return json_response(200, stored)


RewardId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]


@router.get(
    "/v1/rewards",
    summary="The reward catalogue",
    tags=["rewards"],
    responses={200: json_content(RewardList, "Every reward, with the stock left where it is tracked"),
               **errors(body=False)},
)
def get_rewards():
    return json_response(200, services().reward_catalogue.list(caller(router)))


@router.post(
    "/v1/rewards",
    summary="Add a reward to the catalogue",
    description="Version 0 in the body; 409 REWARD_EXISTS when the reward_id is taken.",
    tags=["rewards"],
    responses={201: json_content(RewardView, "The stored reward (version 1)"),
               **errors(conflict=("REWARD_EXISTS",))},
)
def post_reward(reward: RewardInput):
    stored = services().reward_catalogue.create(reward, caller(router))
    logger.info("reward created", extra={"reward_id": stored.reward_id})
    return json_response(201, stored)


@router.get(
    "/v1/rewards/<reward_id>",
    summary="One reward",
    tags=["rewards"],
    responses={200: json_content(RewardView, "The reward"), **errors(not_found=("REWARD_NOT_FOUND",), body=False)},
)
def get_reward(reward_id: RewardId):
    return json_response(200, services().reward_catalogue.get(reward_id, caller(router)))


@router.put(
    "/v1/rewards/<reward_id>",
    summary="Replace a reward",
    description="Send the whole reward with the version you read; 409 REWARD_VERSION_CONFLICT when it changed "
                "meanwhile. `stock` is the units ever offered: what is left follows, never below what was redeemed "
                "(409 STOCK_BELOW_REDEEMED).",
    tags=["rewards"],
    responses={200: json_content(RewardView, "The stored reward, with its new version"),
               **errors(not_found=("REWARD_NOT_FOUND",),
                        conflict=("REWARD_VERSION_CONFLICT", "STOCK_BELOW_REDEEMED"))},
)
def put_reward(reward_id: RewardId, reward: RewardInput):
    stored = services().reward_catalogue.replace(reward_id, reward, caller(router))
    logger.info("reward replaced", extra={"reward_id": reward_id, "version": stored.version})
    return json_response(200, stored)


SCOPES = {
    "GET /v1/program/rules": Scope.PROGRAM_ADMIN,
    "PUT /v1/program/rules": Scope.PROGRAM_ADMIN,
    "GET /v1/rewards": Scope.POINTS_READ,
    "POST /v1/rewards": Scope.PROGRAM_ADMIN,
    "GET /v1/rewards/{reward_id}": Scope.POINTS_READ,
    "PUT /v1/rewards/{reward_id}": Scope.PROGRAM_ADMIN,
}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
