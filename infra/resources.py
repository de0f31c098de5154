"""One description of the platform's resources, read by the CDK stack and by the local run alike:
the table and its indexes, queues, the bus, schedules, functions and the routes each one serves."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from loyalty.platform import environment as env  # noqa: F401  (the one environment contract, re-exported)

PROJECT = "loyalty"
CDK_CONTEXT = json.loads((Path(__file__).resolve().parent.parent / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str
    projection: str = "ALL"  # ALL | KEYS_ONLY


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    partition_key: str
    sort_key: str
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str


TABLE = TableSpec(
    logical_id="LoyaltyTable",
    name=f"{PROJECT}-main",
    partition_key="PK",
    sort_key="SK",
    indexes=(IndexSpec("GSI1", "GSI1PK", "GSI1SK"), IndexSpec("GSI2", "GSI2PK", "GSI2SK"),
             # Points balances by the day the expiry job next has work for them (docs/table-design.md): keys
             # only, so a balance write touches the index only when that day changes.
             IndexSpec("GSI3", "GSI3PK", "GSI3SK", projection="KEYS_ONLY"),
             # Points balances by the day the tier review next has work for the member (keys only, sparse).
             IndexSpec("GSI4", "GSI4PK", "GSI4SK", projection="KEYS_ONLY")),
    ttl_attribute="expires_at",
)
EVENT_BUS_NAME = f"{PROJECT}-bus"


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout_seconds: int
    max_receive_count: int
    dlq_name: str
    consumer: str  # function name
    batch_size: int = 10
    # Detail types (e.g. "PurchaseRecorded.v1") a rule on the bus delivers to the queue: the consumer
    # sees each event at least once, as the EventBridge event JSON in the message body.
    subscribes_to: tuple[str, ...] = ()

    def event_pattern(self) -> dict:
        """The rule's pattern, the same on AWS and in the local run."""
        return {"source": [{"prefix": "loyalty"}], "detail-type": list(self.subscribes_to)}


@dataclass(frozen=True)
class StreamConsumerSpec:
    """A function fed by the table's stream, filtered to the new items of one entity."""
    logical_id: str
    function: str
    entity: str  # INSERTs whose new image has this `entity` reach the function,
    carries: str | None  # and so do INSERTs whose new image has this attribute (None: the entity's only)
    batch_size: int
    max_retries: int  # then the batch's description goes to the dead-letter queue
    dlq_name: str
    when_behind: str  # what waits while the consumer lags behind the stream (the iterator age alarm says it)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form, with {param}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # module.function inside functions/
    description: str
    routes: tuple[Route, ...] = ()
    table_access: str = "none"  # none | read | write
    publishes_events: bool = False
    sends_to: tuple[str, ...] = ()  # queue logical ids
    timeout_seconds: int = 10
    memory_mb: int = 512
    settlement_counters: bool = False  # counts or reads them: gets their shard count (SETTLEMENT_SHARDS)
    member_exports: bool = False  # writes, links or deletes members' data exports: the bucket (EXPORT_BUCKET)


@dataclass(frozen=True)
class ScheduleSpec:
    """Either every `rate_minutes`, or daily at `daily_at` (HH:MM) in `timezone`, or, with `day_of_month`
    as well, monthly on that day at that time. The function receives EventBridge's standard "Scheduled
    Event" either way."""

    logical_id: str
    function: str
    description: str
    rate_minutes: int | None = None
    daily_at: str | None = None
    timezone: str = "UTC"
    day_of_month: int | None = None  # 1..28: every month has it

    def __post_init__(self) -> None:
        if (self.rate_minutes is None) == (self.daily_at is None):
            raise ValueError(f"{self.logical_id}: give rate_minutes or daily_at, not both")
        if self.day_of_month is not None and not (self.daily_at and 1 <= self.day_of_month <= 28):
            raise ValueError(f"{self.logical_id}: a monthly schedule needs daily_at and a day from 1 to 28")
        if self.daily_at is not None:
            self.utc_time()  # refuses a zone whose offset moves (see there)

    def _utc_day_shift(self) -> int:
        """-1, 0 or 1: the UTC day of `daily_at` against the zone's day (02:00 in Shanghai is 18:00 UTC
        the day before)."""
        zone = ZoneInfo(self.timezone)
        local = datetime.combine(date(2026, 1, 15), time.fromisoformat(self.daily_at), tzinfo=zone)
        return (local.astimezone(timezone.utc).date() - local.date()).days

    def cron_day(self) -> str:
        """The day-of-month field of the UTC cron: the zone's day moved by the shift ("L": the last day)."""
        day = self.day_of_month + self._utc_day_shift()
        return "L" if day == 0 else str(day)

    def utc_time(self) -> time:
        """`daily_at` in UTC. EventBridge rules' cron runs in UTC, so a daily time in a zone is one fixed
        UTC time; a zone with daylight saving time would drift by an hour for half the year, so it is
        refused (EventBridge Scheduler's time-zone schedules would be the way then)."""
        zone = ZoneInfo(self.timezone)
        offsets = {datetime(2026, month, 1, 12, tzinfo=zone).utcoffset() for month in range(1, 13)}
        if len(offsets) != 1:
            raise ValueError(f"{self.logical_id}: {self.timezone} changes its UTC offset during the year")
        local = datetime.combine(date(2026, 1, 1), time.fromisoformat(self.daily_at), tzinfo=zone)
        return local.astimezone(timezone.utc).time()

    def expression(self) -> str:
        """As the EventBridge rule has it."""
        if self.rate_minutes is not None:
            # As CDK writes it: whole days or hours in those units.
            for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
                if self.rate_minutes % size == 0:
                    count = self.rate_minutes // size
                    return f"rate({count} {unit}{'s' if count > 1 else ''})"
        at = self.utc_time()
        return f"cron({at.minute} {at.hour} {self.cron_day() if self.day_of_month else '*'} * ? *)"

    def next_run(self, after: datetime) -> datetime:
        """The first moment the schedule fires after `after` (aware), for the local run's scheduler."""
        if self.rate_minutes is not None:
            return after + timedelta(minutes=self.rate_minutes)
        zone = ZoneInfo(self.timezone)
        at = time.fromisoformat(self.daily_at)
        moment = after.astimezone(zone).replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        while moment <= after or (self.day_of_month is not None and moment.day != self.day_of_month):
            moment += timedelta(days=1)
        return moment.astimezone(timezone.utc)


AUTHORIZER = FunctionSpec(
    name="authorizer",
    handler="authorizer.handler",
    description="Checks the client's API key and passes its identity to the API functions",
    table_access="read",
    memory_mb=256,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    AUTHORIZER,
    FunctionSpec(
        name="members",
        handler="members.handler",
        description="Enrollment, member lookup by phone or card, profile and consent changes",
        routes=(
            Route("POST", "/v1/members"),
            Route("POST", "/v1/members/lookup"),
            Route("GET", "/v1/members/{member_id}"),
            Route("PATCH", "/v1/members/{member_id}"),
            Route("GET", "/v1/members/{member_id}/consents"),
            Route("POST", "/v1/members/{member_id}/erasure"),
            Route("GET", "/v1/members/{member_id}/erasure"),
            Route("GET", "/v1/members/{member_id}/access-log"),
            Route("POST", "/v1/members/{member_id}/exports"),
            Route("GET", "/v1/members/{member_id}/exports/{export_id}"),
        ),
        table_access="write",
        publishes_events=True,
        sends_to=("ExportQueue",),
        member_exports=True,
        timeout_seconds=30,  # an erasure revokes the member's vouchers and releases held points first
    ),
    FunctionSpec(
        name="members_erasure",
        handler="members_erasure.handler",
        description="Erases members whose data-processing consent withdrawal has waited out its grace period",
        table_access="write",
        publishes_events=True,
        member_exports=True,
        timeout_seconds=300,
    ),
    FunctionSpec(
        name="members_export",
        handler="members_export.handler",
        description="Writes a member's data export (profile, consents, ledger, purchases, vouchers...) page by page",
        table_access="write",
        member_exports=True,
        timeout_seconds=300,
        memory_mb=512,
    ),
    FunctionSpec(
        name="points",
        handler="points.handler",
        description="Points earned on purchases and activities, returns, adjustments, balance and ledger",
        routes=(
            Route("POST", "/v1/members/{member_id}/purchases"),
            Route("POST", "/v1/members/{member_id}/returns"),
            Route("POST", "/v1/members/{member_id}/activities"),
            Route("POST", "/v1/members/{member_id}/adjustments"),
            Route("GET", "/v1/members/{member_id}/points"),
            Route("GET", "/v1/members/{member_id}/ledger"),
        ),
        table_access="write",
        publishes_events=True,
    ),
    FunctionSpec(
        name="program",
        handler="program.handler",
        description="The loyalty program's earning rules and reward catalogue, managed by the back office",
        routes=(
            Route("GET", "/v1/program/rules"),
            Route("PUT", "/v1/program/rules"),
            Route("GET", "/v1/rewards"),
            Route("POST", "/v1/rewards"),
            Route("GET", "/v1/rewards/{reward_id}"),
            Route("PUT", "/v1/rewards/{reward_id}"),
        ),
        table_access="write",
    ),
    FunctionSpec(
        name="tiers",
        handler="tiers.handler",
        description="The tier ladder, members' benefits and progress, tier history and changes by hand",
        routes=(
            Route("GET", "/v1/tiers/ladder"),
            Route("PUT", "/v1/tiers/ladder"),
            Route("GET", "/v1/members/{member_id}/benefits"),
            Route("POST", "/v1/members/{member_id}/benefits/monthly-voucher"),
            Route("POST", "/v1/members/{member_id}/benefits/birthday"),
            Route("GET", "/v1/members/{member_id}/tier-history"),
            Route("PUT", "/v1/members/{member_id}/tier"),
        ),
        table_access="write",  # its events ride the outbox in its transactions: no PutEvents
    ),
    FunctionSpec(
        name="tier_review",
        handler="tier_review.handler",
        description="Daily: reviews the members whose tier review, warning or lock end is due",
        table_access="write",
        timeout_seconds=900,
    ),
    FunctionSpec(
        name="insight_events",
        handler="insight_events.handler",
        description="Keeps each member's behaviour profile, tags and lifecycle stage from the bus's events",
        table_access="write",
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="insight",
        handler="insight.handler",
        description="Member insight: profile, tags and stage, tag rules, tags by hand, the stores' churn-risk lists",
        routes=(
            Route("GET", "/v1/members/{member_id}/insight"),
            Route("POST", "/v1/members/{member_id}/tags"),
            Route("GET", "/v1/insight/tag-rules"),
            Route("PUT", "/v1/insight/tag-rules"),
            Route("GET", "/v1/insight/churn-risk"),
            Route("PATCH", "/v1/insight/churn-risk/{member_id}"),
        ),
        table_access="write",
    ),
    FunctionSpec(
        name="insight_check",
        handler="insight_check.handler",
        description="Daily: re-assesses the members whose stage or churn risk time alone may change today",
        table_access="write",
        timeout_seconds=900,
    ),
    FunctionSpec(
        name="kpi_events",
        handler="kpi_events.handler",
        description="Counts the bus's events into the daily KPI aggregates, exactly once",
        table_access="write",
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="kpis",
        handler="kpis.handler",
        description="KPI reports by store, city, channel, day or month, and the reconciliation reports",
        routes=(
            Route("GET", "/v1/reports/kpis"),
            Route("GET", "/v1/reports/reconciliation"),
        ),
        table_access="read",
    ),
    FunctionSpec(
        name="kpi_reconciliation",
        handler="kpi_reconciliation.handler",
        description="Daily: proves the day's books (balances against ledger entries, KPIs against settlement)",
        table_access="write",
        timeout_seconds=900,
    ),
    FunctionSpec(
        name="kpi_digest",
        handler="kpi_digest.handler",
        description="Monthly: stores the month's KPIs against the month before and announces the digest",
        table_access="write",
        timeout_seconds=300,
    ),
    FunctionSpec(
        name="redemption",
        handler="redemption.handler",
        description="Spending points anywhere: rewards, redemptions, the voucher wallet, points at the till",
        routes=(
            Route("GET", "/v1/members/{member_id}/rewards"),
            Route("POST", "/v1/members/{member_id}/redemptions"),
            Route("POST", "/v1/members/{member_id}/redemptions/{redemption_id}/cancel"),
            Route("GET", "/v1/members/{member_id}/vouchers"),
            Route("POST", "/v1/vouchers/{code}/use"),
            Route("POST", "/v1/vouchers/{code}/release"),
            Route("POST", "/v1/members/{member_id}/points-payments"),
            Route("POST", "/v1/members/{member_id}/points-payments/{payment_id}/capture"),
            Route("POST", "/v1/members/{member_id}/points-payments/{payment_id}/void"),
        ),
        table_access="write",
        publishes_events=True,
    ),
    FunctionSpec(
        name="points_holds",
        handler="points_holds.handler",
        description="Releases points reservations neither captured nor voided within the hold time",
        table_access="write",
        publishes_events=True,
        timeout_seconds=120,
    ),
    FunctionSpec(
        name="points_activation",
        handler="points_activation.handler",
        description="Makes pending points available once their return window has passed",
        table_access="write",
        publishes_events=True,
        timeout_seconds=300,
    ),
    FunctionSpec(
        name="points_expiry",
        handler="points_expiry.handler",
        description="Daily: hands the expiry index's partitions that are due to the expiry workers",
        table_access="write",  # reads the program rules, moves its watermark
        sends_to=("ExpiryQueue",),
        timeout_seconds=60,
    ),
    FunctionSpec(
        name="points_expiry_worker",
        handler="points_expiry_worker.handler",
        description="Expires due points and announces expiring ones, one expiry index partition per message",
        table_access="write",
        sends_to=("ExpiryQueue",),  # hands the rest of a partition on when its time runs low
        timeout_seconds=300,
    ),
    FunctionSpec(
        name="feedback_intake",
        handler="feedback_intake.handler",
        description="Accepts member feedback from POS, webshop, app and surveys onto the feedback queue",
        routes=(Route("POST", "/v1/feedback"),),
        table_access="read",  # the store, and whether the feedback id is already taken
        sends_to=("FeedbackQueue",),
    ),
    FunctionSpec(
        name="feedback_processor",
        handler="feedback_processor.handler",
        description="Classifies, routes and stores queued feedback once per id, and rewards the member",
        table_access="write",
        publishes_events=True,
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="feedback_staff",
        handler="feedback_staff.handler",
        description="Back office: feedback lists, acknowledge, assign, resolve, configuration, report",
        routes=(
            Route("GET", "/v1/feedback"),
            Route("GET", "/v1/feedback/config"),
            Route("PUT", "/v1/feedback/config"),
            Route("GET", "/v1/feedback/{feedback_id}"),
            Route("POST", "/v1/feedback/{feedback_id}/acknowledge"),
            Route("POST", "/v1/feedback/{feedback_id}/assign"),
            Route("POST", "/v1/feedback/{feedback_id}/resolve"),
            Route("GET", "/v1/reports/feedback"),
        ),
        table_access="write",
        publishes_events=True,
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="feedback_member",
        handler="feedback_member.handler",
        description="The member's feedback in the app and webshop: progress, outcome and reply; rating, reopening",
        routes=(
            Route("GET", "/v1/members/{member_id}/feedback"),
            Route("POST", "/v1/members/{member_id}/feedback/{feedback_id}/rating"),
            Route("POST", "/v1/members/{member_id}/feedback/{feedback_id}/reopen"),
            Route("POST", "/v1/members/{member_id}/feedback-invitations"),
        ),
        table_access="write",  # rating and reopening, their events through the outbox
    ),
    FunctionSpec(
        name="feedback_overdue",
        handler="feedback_overdue.handler",
        description="Flags open feedback past its due time and announces it once",
        table_access="write",
        publishes_events=True,
        timeout_seconds=60,
    ),
    FunctionSpec(
        name="events_relay",
        handler="events_relay.handler",
        description="Puts each new outbox item from the table's stream on the event bus",
        table_access="none",  # the stream hands it the items; it reads and writes nothing itself
        publishes_events=True,
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="settlement_counter",
        handler="settlement_counter.handler",
        description="Adds each new ledger entry from the table's stream to the daily settlement counters, once",
        table_access="write",  # counters and markers; the stream hands it the entries
        timeout_seconds=60,
        settlement_counters=True,
    ),
    FunctionSpec(
        name="settlement_report",
        handler="settlement_report.handler",
        description="Back office: points issued, redeemed, expired, captured per store; what stores owe each other",
        routes=(Route("GET", "/v1/reports/settlement"),),
        table_access="read",
        timeout_seconds=30,
        settlement_counters=True,
    ),
)
# How many shards a day's settlement counters spread over (cdk.json `loyalty:settlementShards`): raise it
# for a busier chain, never lower it (the report reads shards 0 to N-1; counts in higher ones would be lost).
SETTLEMENT_SHARDS = int(CDK_CONTEXT.get("loyalty:settlementShards", 8))
EXPORT_KEEP_DAYS = 7  # a member's data export is deleted from the bucket after this many days

INSIGHT_EVENTS = (
    "MemberEnrolled.v1", "MemberProfileChanged.v1", "MemberErased.v1", "PurchaseRecorded.v1", "PointsReturned.v1",
    "PointsEarned.v1", "TierChanged.v1", "FeedbackReceived.v1", "RewardRedeemed.v1",
)
KPI_EVENTS = (
    "MemberEnrolled.v1", "PurchaseRecorded.v1", "PointsReturned.v1", "PointsEarned.v1", "PointsAdjusted.v1",
    "PointsExpired.v1", "RewardRedeemed.v1", "RedemptionCancelled.v1", "PointsPaymentCaptured.v1", "TierChanged.v1",
    "FeedbackReceived.v1", "FeedbackResolved.v1",
)
QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(
        logical_id="FeedbackQueue",
        name="loyalty-feedback",
        visibility_timeout_seconds=180,  # 6x the processor's 30 s timeout, as AWS recommends
        max_receive_count=5,
        dlq_name="loyalty-feedback-dlq",
        consumer="feedback_processor",
        batch_size=10,
    ),
    QueueSpec(
        logical_id="ExportQueue",
        name="loyalty-member-exports",
        visibility_timeout_seconds=1800,  # 6x the export function's 300 s timeout
        max_receive_count=3,
        dlq_name="loyalty-member-exports-dlq",
        consumer="members_export",
        batch_size=1,  # one export per invocation, with the whole time budget
    ),
    QueueSpec(
        logical_id="ExpiryQueue",
        name="loyalty-points-expiry",
        visibility_timeout_seconds=1800,  # 6x the worker's 300 s timeout
        max_receive_count=5,
        dlq_name="loyalty-points-expiry-dlq",
        consumer="points_expiry_worker",
        batch_size=1,  # one partition per invocation, with the whole time budget
    ),
    QueueSpec(
        logical_id="InsightQueue",
        name="loyalty-insight",
        visibility_timeout_seconds=180,  # 6x the consumer's 30 s timeout
        max_receive_count=5,
        dlq_name="loyalty-insight-dlq",
        consumer="insight_events",
        batch_size=10,
        subscribes_to=INSIGHT_EVENTS,
    ),
    QueueSpec(
        logical_id="KpiQueue",
        name="loyalty-kpis",
        visibility_timeout_seconds=180,  # 6x the consumer's 30 s timeout
        max_receive_count=5,
        dlq_name="loyalty-kpis-dlq",
        consumer="kpi_events",
        batch_size=10,
        subscribes_to=KPI_EVENTS,
    ),
)
STREAM_CONSUMERS: tuple[StreamConsumerSpec, ...] = (
    StreamConsumerSpec(
        logical_id="EventsRelayStream",
        function="events_relay",
        entity="outbox",  # loyalty.platform.outbox.OUTBOX_ENTITY
        carries="evt_type",  # loyalty.platform.outbox.EVENT_TYPE_ATTRIBUTE: an event riding on its item
        batch_size=50,
        max_retries=10,
        dlq_name="loyalty-events-relay-dlq",
        when_behind="events reach the bus late",
    ),
    # The second and last reader the stream takes: DynamoDB Streams serves at most two readers per shard.
    StreamConsumerSpec(
        logical_id="SettlementCounterStream",
        function="settlement_counter",
        entity="ledger_entry",  # every new ledger entry; the function skips what moves no points between stores
        carries=None,
        batch_size=100,
        max_retries=10,
        dlq_name="loyalty-settlement-counter-dlq",
        when_behind="the settlement report leaves out the latest ledger entries",
    ),
)
SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        logical_id="PointsActivationSchedule",
        function="points_activation",
        rate_minutes=15,
        description="Activate pending points whose return window has passed",
    ),
    ScheduleSpec(
        logical_id="PointsHoldsSchedule",
        function="points_holds",
        rate_minutes=5,
        description="Release points reservations past their hold time",
    ),
    ScheduleSpec(
        logical_id="PointsExpirySchedule",
        function="points_expiry",
        daily_at="00:05",  # shortly after midnight where the program's days end (the rules' default zone)
        timezone="Asia/Shanghai",
        description="Expire points whose month has ended and announce those about to, daily",
    ),
    ScheduleSpec(
        logical_id="MembersErasureSchedule",
        function="members_erasure",
        daily_at="03:30",  # a quiet hour in the chains' stores
        timezone="Asia/Shanghai",
        description="Erase members whose consent withdrawal has waited out its grace period, daily",
    ),
    ScheduleSpec(
        logical_id="TierReviewSchedule",
        function="tier_review",
        daily_at="00:30",  # after midnight in the program's zone, after the expiry job's hand-out
        timezone="Asia/Shanghai",
        description="Review members' tiers that are due: downgrades, warnings, locks that end",
    ),
    ScheduleSpec(
        logical_id="TierReviewCatchUpSchedule",
        function="tier_review",
        rate_minutes=60,  # a run that stopped for time goes on within the hour; after a complete run: 1 read
        description="Carry on a tier review that ran out of time (nothing to do once the day is reviewed)",
    ),
    ScheduleSpec(
        logical_id="InsightCheckSchedule",
        function="insight_check",
        daily_at="01:00",  # after the day has ended in the program's zone
        timezone="Asia/Shanghai",
        description="Re-assess members whose stage or churn risk changes with time alone today",
    ),
    ScheduleSpec(
        logical_id="KpiReconciliationSchedule",
        function="kpi_reconciliation",
        daily_at="02:00",  # after the day's events have been counted
        timezone="Asia/Shanghai",
        description="Prove yesterday's books and report any drift",
    ),
    ScheduleSpec(
        logical_id="KpiDigestSchedule",
        function="kpi_digest",
        daily_at="06:00",
        timezone="Asia/Shanghai",
        day_of_month=1,
        description="Store last month's KPI digest against the month before",
    ),
    ScheduleSpec(
        logical_id="FeedbackOverdueSchedule",
        function="feedback_overdue",
        rate_minutes=15,
        description="Flag open feedback past its due time",
    ),
)


def function(name: str) -> FunctionSpec:
    return next(f for f in FUNCTIONS if f.name == name)


def routes() -> list[tuple[Route, FunctionSpec]]:
    return [(route, fn) for fn in FUNCTIONS for route in fn.routes]


API_KEY_HEADER = "X-Api-Key"


@dataclass(frozen=True)
class CorsSpec:
    """Browser clients (the webshop, the member app's web views): API Gateway answers their preflight
    requests itself, and the local gateway the same way."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "OPTIONS")
    allow_headers: tuple[str, ...] = ("Content-Type", API_KEY_HEADER, "Idempotency-Key")
    max_age_seconds: int = 600


CORS = CorsSpec(allow_origins=tuple(CDK_CONTEXT.get("loyalty:corsAllowOrigins", ())))
AUTHORIZER_CACHE_SECONDS = 60  # a revoked key stops working within this time

# API Gateway's own answers (no function runs), in the platform's error shape. The local gateway
# answers with the same statuses and bodies.
GATEWAY_RESPONSES: dict[str, tuple[int, str, str]] = {
    # response type: (status, code, message)
    "UNAUTHORIZED": (401, "UNAUTHORIZED", "missing, unknown or revoked API key"),
    "ACCESS_DENIED": (403, "ACCESS_DENIED", "this API key may not call this API"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "ROUTE_NOT_FOUND", "no such route"),
    "THROTTLED": (429, "THROTTLED", "too many requests; retry with backoff"),
    "REQUEST_TOO_LARGE": (413, "PAYLOAD_TOO_LARGE", "request body too large"),
    "DEFAULT_5XX": (500, "INTERNAL_ERROR", "internal error; retry with the same idempotency key"),
}


def gateway_error_body(response_type: str) -> str:
    status, code, message = GATEWAY_RESPONSES[response_type]
    return '{"error":{"code":"%s","message":"%s"}}' % (code, message)


@dataclass(frozen=True)
class MonitoringSpec:
    """When the platform calls its operators. The monitoring construct builds its alarms from these
    numbers and the template tests assert the same ones. Every alarm, and its return to OK, notifies
    one SNS topic; periods are `period_minutes` long and one breaching period alarms unless noted.
    Counts alarm at their threshold or above it; the rate, the latency and the age only above it."""

    name_prefix: str  # of every alarm's name (the topic accepts alarms named so), the topic and the dashboard
    period_minutes: int = 5
    dead_letter_messages: int = 1  # visible messages in any dead-letter queue: work given up on
    api_5xx_percent: float = 1.0  # the stage's 5XXError / Count, in percent
    api_p99_latency_ms: int = 2000  # the stage's p99 Latency ...
    api_latency_periods: int = 3  # ... in this many consecutive periods
    function_errors: int = 1  # Errors of any one function
    function_throttles: int = 1  # Throttles of Lambda in the account and region (the functions share its concurrency)
    table_throttle_events: int = 1  # ReadThrottleEvents or WriteThrottleEvents of the table or one index
    stream_iterator_age_seconds: int = 60  # IteratorAge maximum of a stream consumer
    reconciliation_drift: int = 1  # drifts the daily reconciliation found (its ReconciliationDrift metric)

    @property
    def topic_name(self) -> str:
        return f"{self.name_prefix}-alarms"

    @property
    def dashboard_name(self) -> str:
        return f"{self.name_prefix}-operations"

    def alarm_name(self, *parts: str) -> str:
        """`<prefix>-<parts>`, kebab case; a part that already starts with the prefix keeps it once."""
        words = [part.replace("_", "-").lower() for part in parts]
        if words and words[0].startswith(f"{self.name_prefix}-"):
            words[0] = words[0][len(self.name_prefix) + 1:]
        return "-".join((self.name_prefix, *words))


MONITORING = MonitoringSpec(name_prefix=PROJECT)
