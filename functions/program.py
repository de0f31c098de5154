"""The loyalty program's rules, as configuration the back office manages: GET/PUT /v1/program/rules."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.points.program import ProgramRules, ProgramRulesInput
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


SCOPES = {"GET /v1/program/rules": Scope.PROGRAM_ADMIN, "PUT /v1/program/rules": Scope.PROGRAM_ADMIN}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
