"""Feedback intake: POST /v1/feedback validates, queues and answers 202 at once; the processor does the rest."""
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from loyalty.platform.http import api_handler, caller, json_response
from loyalty.platform.schemas import errors, json_content
from loyalty.feedback.domain import FeedbackSubmission
from loyalty.feedback.results import FeedbackAccepted
from loyalty.kernel.identity import Scope
from loyalty.platform.observability import make_tracer
from loyalty.wiring import services

logger = Logger()
tracer = make_tracer()
metrics = Metrics()
router = Router()


@router.post(
    "/v1/feedback",
    summary="Submit member feedback (complaint, suggestion, praise, survey answer)",
    description="Answered as soon as the feedback is safely queued. Resending the same feedback_id with the "
                "same content is harmless; the same id with other content is refused with 409.",
    tags=["feedback"],
    responses={202: json_content(FeedbackAccepted, "Queued"),
               **errors(bad_request=("UNKNOWN_STORE",), not_found=("MEMBER_NOT_FOUND",),
                        conflict=("IDEMPOTENCY_KEY_REUSED",))},
)
def submit(submission: FeedbackSubmission):
    result = services().feedback_intake.submit(submission, caller(router))
    # Ids and labels only: the text may contain personal data.
    logger.info("feedback accepted", extra={"feedback_id": submission.feedback_id, "store_id": submission.store_id,
                                            "member_id": submission.member_id, "kind": submission.kind.value,
                                            "channel": submission.channel.value})
    metrics.add_metric(name="FeedbackAccepted", unit=MetricUnit.Count, value=1)
    return json_response(202, result)


SCOPES = {"POST /v1/feedback": Scope.FEEDBACK_WRITE}
app, handler = api_handler(router, logger, tracer, metrics, SCOPES)
