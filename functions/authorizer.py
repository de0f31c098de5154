"""API Gateway REQUEST authorizer: the X-Api-Key header names a client; its identity travels to the
API functions in the authorizer context. Unknown or revoked keys get 401."""
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()

API_KEY_HEADER = "x-api-key"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context):
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    identity = services().api_key_service.authenticate(headers.get(API_KEY_HEADER))
    if identity is None:
        logger.info("api key rejected")
        # API Gateway answers 401 (its UNAUTHORIZED gateway response) for exactly this message.
        raise Exception("Unauthorized")  # noqa: TRY002
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=identity.client_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=identity.to_context(),
    )
    # One policy for every method: API Gateway caches it per key; scopes and stores are checked by the API.
    policy.allow_all_routes()
    logger.info("api key accepted", extra={"client_id": identity.client_id})
    return policy.asdict()
