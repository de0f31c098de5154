"""The one environment contract between the stack (infra/), the local run (local/), the settings and
the tests: every variable a function reads is named here and nowhere else.

It lives in the shared package because the functions read it on Lambda; infra/resources.py re-exports it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

TABLE_NAME = "LOYALTY_TABLE_NAME"
EVENT_BUS_NAME = "EVENT_BUS_NAME"
DEFAULT_COUNTRY_CODE = "DEFAULT_COUNTRY_CODE"
FEEDBACK_QUEUE_URL = "FEEDBACK_QUEUE_URL"
POINTS_EXPIRY_QUEUE_URL = "POINTS_EXPIRY_QUEUE_URL"
EXPORT_QUEUE_URL = "EXPORT_QUEUE_URL"
EXPORT_BUCKET = "EXPORT_BUCKET"  # on AWS: the encrypted bucket members' data exports go to
EXPORT_FOLDER = "EXPORT_FOLDER"  # in the local run: the folder they go to instead
CORS_ALLOW_ORIGINS = "CORS_ALLOW_ORIGINS"  # comma-separated browser origins the API answers (API functions)
SETTLEMENT_SHARDS = "SETTLEMENT_SHARDS"  # how many shards the settlement counters of a day spread over
ERASURE_GRACE_DAYS = "ERASURE_GRACE_DAYS"  # days between a data-processing consent withdrawal and the erasure
INACTIVITY_ERASURE_DAYS = "INACTIVITY_ERASURE_DAYS"  # the retention policy: erase after this many quiet days (absent: off)

# Powertools' own switches, set per function.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"

CORE = (TABLE_NAME, EVENT_BUS_NAME, DEFAULT_COUNTRY_CODE, ERASURE_GRACE_DAYS)
"""What every function of the platform receives."""

QUEUE_URLS = {"FeedbackQueue": FEEDBACK_QUEUE_URL, "ExpiryQueue": POINTS_EXPIRY_QUEUE_URL,
              "ExportQueue": EXPORT_QUEUE_URL}
"""The variable carrying each queue's URL (by the queue's logical id in infra/resources.py)."""


def function_environment(*, table_name: str, event_bus_name: str, default_country_code: str,
                         queue_urls: Mapping[str, str], sends_to: Iterable[str],
                         cors_allow_origins: Iterable[str] = (),
                         settlement_shards: int | None = None, erasure_grace_days: int = 30,
                         inactivity_erasure_days: int = 0,
                         export_bucket: str | None = None, export_folder: str | None = None) -> dict[str, str]:
    """The variables one function gets: the core ones, the URL of each queue it sends to, for an API
    function the browser origins it may answer, and for the settlement functions the counters' shards."""
    environment = {TABLE_NAME: table_name, EVENT_BUS_NAME: event_bus_name, DEFAULT_COUNTRY_CODE: default_country_code,
                   ERASURE_GRACE_DAYS: str(erasure_grace_days)}
    for queue_id in sends_to:
        environment[QUEUE_URLS[queue_id]] = queue_urls[queue_id]
    origins = ",".join(cors_allow_origins)
    if origins:
        environment[CORS_ALLOW_ORIGINS] = origins
    if inactivity_erasure_days > 0:
        environment[INACTIVITY_ERASURE_DAYS] = str(inactivity_erasure_days)
    if settlement_shards is not None:
        environment[SETTLEMENT_SHARDS] = str(settlement_shards)
    if export_bucket is not None:
        environment[EXPORT_BUCKET] = export_bucket
    if export_folder is not None:
        environment[EXPORT_FOLDER] = export_folder
    return environment


def powertools_environment(*, service_name: str, metrics_namespace: str, log_level: str = "INFO",
                           tracing: bool = True) -> dict[str, str]:
    environment = {SERVICE_NAME: service_name, METRICS_NAMESPACE: metrics_namespace, LOG_LEVEL: log_level}
    if not tracing:
        environment[TRACE_DISABLED] = "true"
    return environment
