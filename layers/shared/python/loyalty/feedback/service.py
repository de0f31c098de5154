"""Feedback use cases: intake (queue only), processing (classify, route, store, reward), staff handling,
the overdue check and the report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalty.kernel.identity import ALL_STORES, ClientIdentity, ClientKind, Scope
from loyalty.feedback.errors import FeedbackNotFound, ReopenWindowClosed
from loyalty.kernel.errors import IdempotencyKeyReused, InvalidInput, MemberNotFound, MissingScope, StoreNotFound
from loyalty.feedback.domain import (
    OPEN_STATUSES, AcknowledgeRequest, FeedbackRecord, AssignRequest, FeedbackAction, FeedbackItem, FeedbackKind,
    FeedbackMessage, FeedbackQuery, FeedbackStatus, FeedbackSubmission, InvitationRequest, Outcome, RateRequest,
    ReopenRequest, ResolveRequest, invitation_sampled,
)
from loyalty.feedback.classify import MemberContext, assess, due_hours
from loyalty.feedback.events import (
    FeedbackInvited, overdue_event, rated_event, received_events, resolved_event, status_changed_event,
)
from loyalty.feedback.config import FeedbackConfig, FeedbackConfigUpdate, StoredFeedbackConfig, default_stored_config
from loyalty.feedback.kpis import change_deltas, handling_kpis, received_deltas
from loyalty.feedback.member_views import InvitationAnswer, MemberFeedbackList, MemberFeedbackView
from loyalty.kernel.idempotency import payload_hash
from loyalty.feedback.ports import (
    FeedbackQueue, FeedbackRepository, FeedbackRewarder, MemberTiers, StoreCatalog, WordSegmenter,
)
from loyalty.feedback.report import ReportQuery, feedback_report
from loyalty.feedback.results import (
    FeedbackAccepted, FeedbackConfigView, FeedbackDetail, FeedbackList, FeedbackReport, FeedbackView, OverdueRun,
)
from loyalty.kernel.ports import Clock, EventPublisher, MemberDirectory, StoreDirectory

MAX_MATCHED_KEYWORDS = 30  # kept on the item for staff; a long text does not make a long list

# Stores' time zones come from the tz database; should a runtime lack it, the chain's default (UTC+8) stands in.
_FALLBACK_ZONE = timezone(timedelta(hours=8), "Asia/Shanghai")


def load_config(repository: FeedbackRepository) -> StoredFeedbackConfig:
    return repository.get_config() or default_stored_config()


# -- intake ---------------------------------------------------------------------------------------
class FeedbackIntake:
    """POST /v1/feedback: validate, check the caller and the store, queue, answer at once."""

    def __init__(self, queue: FeedbackQueue, stores: StoreDirectory, feedback: FeedbackRepository, clock: Clock,
                 members: MemberDirectory | None = None):
        self._queue = queue
        self._stores = stores
        self._members = members
        self._feedback = feedback
        self._clock = clock

    def submit(self, submission: FeedbackSubmission, client: ClientIdentity) -> FeedbackAccepted:
        client.require(Scope.FEEDBACK_WRITE)
        client.require_store(submission.store_id)
        if self._stores.get_store(submission.store_id) is None:
            raise StoreNotFound(f"store {submission.store_id} is not a store of this chain", field="store_id")
        if submission.member_id and self._members is not None and not self._members.member_exists(submission.member_id):
            raise MemberNotFound(f"member {submission.member_id} does not exist", field="member_id")
        # A resend of feedback that is already stored answers as the first time; the processor
        # would drop it anyway. Reusing an id for different feedback is refused while we can still say so.
        stored = self._feedback.get(submission.feedback_id)
        if stored is not None:
            if stored.request_hash != submission.fingerprint(client.client_id):
                raise IdempotencyKeyReused("this feedback_id was already used for other feedback",
                                           field="feedback_id")
            return FeedbackAccepted(feedback_id=stored.feedback_id, received_at=stored.received_at)
        received_at = self._clock.now()
        message = FeedbackMessage(**submission.model_dump(), client_id=client.client_id, received_at=received_at)
        self._queue.send(message.model_dump(mode="json", exclude_none=True))
        return FeedbackAccepted(feedback_id=submission.feedback_id, received_at=received_at)


# -- processing -----------------------------------------------------------------------------------
class ProcessOutcome(str, Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored and fully processed: nothing to do
    RESUMED = "resumed"  # already stored, but its events or reward had not gone through: done now


@dataclass(frozen=True)
class ProcessResult:  # internal to the queue consumer, which logs it
    outcome: ProcessOutcome
    item: FeedbackItem
    reward: str | None = None  # what the rewarder answered, when it was asked


class FeedbackProcessor:
    """Turns one queue message into a stored, classified, routed item, exactly once per feedback id."""

    def __init__(self, feedback: FeedbackRepository, publisher: EventPublisher, rewarder: FeedbackRewarder,
                 clock: Clock, words: WordSegmenter, members: MemberTiers | None = None):
        self._words = words
        self._feedback = feedback
        self._publisher = publisher
        self._rewarder = rewarder
        self._clock = clock
        self._members = members

    def _member_context(self, message: FeedbackMessage, config: FeedbackConfig) -> MemberContext:
        """Only a member's complaint can be raised to high by who the member is or what they said before."""
        if message.member_id is None or message.kind != FeedbackKind.COMPLAINT:
            return MemberContext()
        tier = self._members.member_tier(message.member_id) if self._members and config.high_tiers else None
        recent = 0
        if config.repeat_window_days:
            since = message.received_at - timedelta(days=config.repeat_window_days)
            recent = self._feedback.recent_complaints(message.member_id, since, message.received_at,
                                                      message.feedback_id)
        return MemberContext(tier=tier, recent_complaints=recent)

    def current_config(self) -> FeedbackConfig:
        return load_config(self._feedback).config

    def process(self, message: FeedbackMessage, config: FeedbackConfig) -> ProcessResult:
        now = self._clock.now()
        assessment = assess(text=message.text, kind=message.kind, rating=message.rating, nps=message.nps,
                            received_at=message.received_at, config=config, words=self._words,
                            member=self._member_context(message, config))
        item = FeedbackItem(
            **message.model_dump(),
            processed_at=now,
            categories=assessment.categories,
            primary_category=assessment.primary_category,
            sentiment=assessment.sentiment,
            urgency=assessment.urgency,
            urgency_reasons=assessment.urgency_reasons,
            matched_keywords=assessment.keywords[:MAX_MATCHED_KEYWORDS],
            department=assessment.department,
            due_at=assessment.due_at,
            request_hash=message.fingerprint(message.client_id),
        )
        existing = self._feedback.create(item, item.received_entry(), received_deltas(item))
        if existing is None:
            return ProcessResult(ProcessOutcome.STORED, item, self._side_effects(item, now))
        if existing.request_hash != item.request_hash:
            # Someone reused the id for other feedback after the intake check. Failing sends the
            # message to the dead-letter queue, where it is kept for a person to look at, not lost.
            raise IdempotencyKeyReused(f"feedback id {item.feedback_id} already holds other feedback",
                                       field="feedback_id")
        if existing.processing_complete:
            return ProcessResult(ProcessOutcome.DUPLICATE, existing)
        return ProcessResult(ProcessOutcome.RESUMED, existing, self._side_effects(existing, now))

    def _side_effects(self, item: FeedbackItem, now: datetime) -> str | None:
        """Events, then the reward; each is marked done so a redelivery repeats only what is missing."""
        published_now = reward = None
        if item.events_published_at is None:
            self._publisher.publish(received_events(item))
            published_now = now
        if item.reward_settled_at is None:
            try:
                if item.member_id:
                    reward = self._rewarder.reward(item.member_id, item.feedback_id, item.store_id, item.received_at)
            except Exception:
                if published_now:
                    self._feedback.mark_processed(item.feedback_id, events_published_at=published_now)
                raise
        self._feedback.mark_processed(item.feedback_id, events_published_at=published_now,
                                      reward_settled_at=now if item.reward_settled_at is None else None)
        return reward


# -- staff handling -------------------------------------------------------------------------------
class FeedbackDesk:
    """The back office: list and read items, acknowledge, assign, resolve, configure, overdue check."""

    def __init__(self, feedback: FeedbackRepository, publisher: EventPublisher, clock: Clock):
        self._feedback = feedback
        self._publisher = publisher
        self._clock = clock

    def list(self, query: FeedbackQuery, client: ClientIdentity) -> FeedbackList:
        client.require(Scope.FEEDBACK_MANAGE)
        if query.store_id is not None:
            client.require_store(query.store_id)
        now = self._clock.now()
        page = self._feedback.search(query, now, allowed=lambda item: client.acts_for(item.store_id))
        return FeedbackList(items=[feedback_view(i, now) for i in page.items], next_cursor=page.cursor)

    def get(self, feedback_id: str, client: ClientIdentity) -> FeedbackDetail:
        client.require(Scope.FEEDBACK_MANAGE)
        item = self._load(feedback_id, client)
        return FeedbackDetail(**dict(feedback_view(item, self._clock.now())),
                              history=self._feedback.history(feedback_id))

    def acknowledge(self, feedback_id: str, request: AcknowledgeRequest, client: ClientIdentity) -> FeedbackView:
        return self._change(feedback_id, FeedbackAction.ACKNOWLEDGED, client, request.version,
                            by=request.by, note=request.note)

    def assign(self, feedback_id: str, request: AssignRequest, client: ClientIdentity) -> FeedbackView:
        return self._change(feedback_id, FeedbackAction.ASSIGNED, client, request.version,
                            by=request.by, assignee=request.assignee, note=request.note)

    def resolve(self, feedback_id: str, request: ResolveRequest, client: ClientIdentity) -> FeedbackView:
        if request.outcome == Outcome.IN_PROGRESS and request.expected_at <= self._clock.now():
            raise InvalidInput("expected_at must be in the future", field="expected_at")
        return self._change(feedback_id, FeedbackAction.RESOLVED, client, request.version,
                            by=request.by, note=request.note, outcome=request.outcome, reply=request.reply,
                            reason=request.reason, expected_at=request.expected_at)

    def _change(self, feedback_id: str, action: FeedbackAction, client: ClientIdentity, expected_version: int | None,
                **details) -> FeedbackView:
        client.require(Scope.FEEDBACK_MANAGE)
        before = self._load(feedback_id, client)
        now = self._clock.now()
        after, entry = before.transition(action, now=now, client_id=client.client_id,
                                         expected_version=expected_version, **details)
        self._feedback.update(before, after, entry, change_events(before, after, now, client.client_id),
                              change_deltas(before, after, action, now))
        return feedback_view(after, now)

    def _load(self, feedback_id: str, client: ClientIdentity) -> FeedbackItem:
        item = self._feedback.get(feedback_id)
        if item is None or not client.acts_for(item.store_id):  # another store's item is not revealed
            raise FeedbackNotFound(f"feedback {feedback_id} does not exist")
        return item

    # -- configuration --------------------------------------------------------------------------
    def get_config(self, client: ClientIdentity) -> FeedbackConfigView:
        client.require(Scope.FEEDBACK_MANAGE)
        return config_view(load_config(self._feedback))

    def put_config(self, update: FeedbackConfigUpdate, client: ClientIdentity) -> FeedbackConfigView:
        client.require(Scope.FEEDBACK_MANAGE)
        config = FeedbackConfig.model_validate(update.model_dump(exclude=set(FeedbackConfigUpdate.READ_ONLY)))
        stored = self._feedback.put_config(config, expected_version=update.version, at=self._clock.now(),
                                           by=client.client_id)
        return config_view(stored)

    # -- scheduled overdue check ----------------------------------------------------------------
    def flag_overdue(self) -> OverdueRun:
        """Flag open items past their due time (status unchanged) and announce each one once."""
        now = self._clock.now()
        flagged, to_notify = 0, []
        for status in OPEN_STATUSES:
            for item in self._feedback.past_due(status, now):
                if item.overdue_at is None:
                    if not self._feedback.flag_overdue(item, now, item.overdue_entry(now)):
                        continue  # resolved or flagged meanwhile; whoever flagged it announces it
                    flagged += 1
                    item = item.model_copy(update={"overdue": True, "overdue_at": now})
                if item.overdue_notified_at is None:
                    to_notify.append(item)
        if to_notify:
            self._publisher.publish([overdue_event(i, now) for i in to_notify])
            for item in to_notify:
                self._feedback.mark_overdue_notified(item.feedback_id, now)
        return OverdueRun(flagged=flagged, notified=len(to_notify))


# -- report ---------------------------------------------------------------------------------------
class FeedbackReports:
    def __init__(self, feedback: FeedbackRepository, stores: StoreCatalog, clock: Clock):
        self._feedback = feedback
        self._stores = stores
        self._clock = clock

    def report(self, query: ReportQuery, client: ClientIdentity) -> FeedbackReport:
        """Figures for items received from `from_date` to `to_date` inclusive, each store's days in its own
        time zone. Reads one GSI2 range per store (see docs/table-design.md for how this scales)."""
        client.require(Scope.REPORTS_READ)
        query.check()
        if query.store_id is not None:
            client.require_store(query.store_id)
            store = self._stores.get_store(query.store_id)
            if store is None:
                raise StoreNotFound(f"store {query.store_id} is not a store of this chain", field="store_id")
            stores = [store]
        else:
            stores = sorted((s for s in self._stores.list_stores() if client.acts_for(s.store_id)),
                            key=lambda s: s.store_id)
        now = self._clock.now()
        per_store = []
        for store in stores:
            zone = _zone(store.timezone)
            start = datetime.combine(query.from_date, time.min, zone).astimezone(timezone.utc)
            end = datetime.combine(query.to_date + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
            per_store.append((store.store_id, self._feedback.received_between(store.store_id, start, end)))
        report = feedback_report(per_store, now)
        return FeedbackReport.model_validate({"from": query.from_date, "to": query.to_date,
                                              "store_id": query.store_id, "generated_at": now, **report,
                                              "handling": self.handling(query, client)})

    def handling(self, query: ReportQuery, client: ClientIdentity) -> dict:
        """Handling KPIs from the daily counters (UTC+8 days): the chain, per store, department and assignee.
        A store's report, or a key for some stores, gets those stores' figures only."""
        rows = list(self._feedback.stats_between(query.from_date, query.to_date))
        if query.store_id is not None or ALL_STORES not in client.store_ids:
            wanted = {query.store_id} if query.store_id is not None else set(client.store_ids)
            rows = [r for r in rows if r["dimension"] == "store" and r["value"] in wanted]
            kpis = handling_kpis(rows)
            stores = kpis["by_store"]
            totals = handling_kpis([{**r, "dimension": "all", "value": "*"} for r in rows])["totals"]
            return {"totals": totals, "by_store": stores, "by_department": [], "by_assignee": []}
        return handling_kpis(rows)


# -- the member's side ------------------------------------------------------------------------------
_MEMBER_CLIENTS = (ClientKind.APP, ClientKind.WEBSHOP)


def _require_member_side(client: ClientIdentity) -> None:
    """The member's app and the webshop (acting for the signed-in member), or the back office."""
    if Scope.FEEDBACK_MANAGE in client.scopes:
        return
    client.require(Scope.FEEDBACK_WRITE)
    if client.kind not in _MEMBER_CLIENTS:
        raise MissingScope("only the member's app, the webshop or the back office read a member's feedback",
                           details={"scope": Scope.FEEDBACK_WRITE.value})


class MemberFeedback:
    """The member's view of their own feedback: progress, outcome and reply; rating and reopening."""

    def __init__(self, feedback: FeedbackRepository, clock: Clock, members: MemberDirectory | None = None):
        self._feedback = feedback  # its changes carry their events to the outbox
        self._clock = clock
        self._members = members

    def list(self, member_id: str, limit: int, cursor: str | None, client: ClientIdentity) -> MemberFeedbackList:
        _require_member_side(client)
        page = self._feedback.member_feedback(member_id, limit, cursor)
        if not page.items and cursor is None and self._members is not None \
                and not self._members.member_exists(member_id):
            raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
        window = load_config(self._feedback).config.reopen_window_days
        now = self._clock.now()
        return MemberFeedbackList(items=[MemberFeedbackView.of(i, window, now) for i in page.items],
                                  next_cursor=page.cursor)

    def rate(self, member_id: str, feedback_id: str, request: RateRequest, client: ClientIdentity) -> MemberFeedbackView:
        _require_member_side(client)
        before = self._load(member_id, feedback_id)
        config = load_config(self._feedback).config
        now = self._clock.now()
        if before.satisfaction == request.rating:  # the same rating again: nothing to change
            return MemberFeedbackView.of(before, config.reopen_window_days, now)
        after, entry = before.transition(FeedbackAction.RATED, now=now, client_id=client.client_id,
                                         expected_version=None, rating=request.rating)
        self._feedback.update(before, after, entry, [rated_event(after, now)],
                              change_deltas(before, after, FeedbackAction.RATED, now))
        return MemberFeedbackView.of(after, config.reopen_window_days, now)

    def reopen(self, member_id: str, feedback_id: str, request: ReopenRequest,
               client: ClientIdentity) -> MemberFeedbackView:
        _require_member_side(client)
        before = self._load(member_id, feedback_id)
        config = load_config(self._feedback).config
        now = self._clock.now()
        if (request.version is not None and before.status != FeedbackStatus.RESOLVED
                and before.reopened_from_version == request.version):
            return MemberFeedbackView.of(before, config.reopen_window_days, now)  # this reopen, sent again
        until = before.reopen_until(config.reopen_window_days)
        if before.status == FeedbackStatus.RESOLVED and (until is None or now > until):
            raise ReopenWindowClosed(
                f"feedback {feedback_id} can be reopened for {config.reopen_window_days} days after its outcome",
                details={"reopen_window_days": config.reopen_window_days})
        # Back to its department, due sooner than a new item of its level.
        hours = min(config.reopen_due_hours, due_hours(before.urgency, config))
        after, entry = before.transition(FeedbackAction.REOPENED, now=now, client_id=client.client_id,
                                         expected_version=request.version, note=request.text,
                                         reopen_due_hours=hours)
        self._feedback.update(before, after, entry, change_events(before, after, now, client.client_id),
                              change_deltas(before, after, FeedbackAction.REOPENED, now))
        return MemberFeedbackView.of(after, config.reopen_window_days, now)

    def invite(self, member_id: str, request: InvitationRequest, client: ClientIdentity) -> InvitationAnswer:
        """A purchase asks whether to invite feedback; sampled by the order, announced once per order."""
        client.require(Scope.FEEDBACK_WRITE)
        client.require_store(request.store_id)
        config = load_config(self._feedback).config
        if not invitation_sampled(request.store_id, request.order_id, config.invitation_sample_pct):
            return InvitationAnswer(invited=False, sample_pct=config.invitation_sample_pct)
        if self._members is not None and not self._members.member_exists(member_id):
            raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
        now = self._clock.now()
        # Derived from the order, so a resend names the same invitation (and the feedback id it suggests).
        invitation_id = "inv-" + payload_hash({"store_id": request.store_id, "order_id": request.order_id})[:24]
        expires_at = now + timedelta(days=config.invitation_valid_days)
        event = FeedbackInvited(occurred_at=now, invitation_id=invitation_id, member_id=member_id,
                                store_id=request.store_id, order_id=request.order_id, channel=request.channel.value,
                                expires_at=expires_at)
        self._feedback.invite(invitation_id, member_id, request.store_id, request.order_id, expires_at, event)
        return InvitationAnswer(invited=True, invitation_id=invitation_id, expires_at=expires_at,
                                sample_pct=config.invitation_sample_pct)

    def _load(self, member_id: str, feedback_id: str) -> FeedbackItem:
        item = self._feedback.get(feedback_id)
        if item is None or item.member_id != member_id:  # another member's item is not revealed
            raise FeedbackNotFound(f"feedback {feedback_id} does not exist")
        return item


def change_events(before: FeedbackItem, after: FeedbackItem, now: datetime, client_id: str) -> list:
    """A status change announces itself; a final outcome also as FeedbackResolved."""
    events = []
    if after.status != before.status:
        events.append(status_changed_event(before, after, now))
    if after.status == FeedbackStatus.RESOLVED and after.outcome_at == now:
        events.append(resolved_event(after, client_id))
    return events


def config_view(stored: StoredFeedbackConfig) -> FeedbackConfigView:
    return FeedbackConfigView(**dict(stored.config), version=stored.version,
                              source="stored" if stored.version else "default",
                              updated_at=stored.updated_at, updated_by=stored.updated_by)


def feedback_view(item: FeedbackItem, now: datetime) -> FeedbackView:
    return FeedbackView(**{name: getattr(item, name) for name in FeedbackRecord.model_fields},
                        ).model_copy(update={"overdue": item.is_overdue(now)})


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _FALLBACK_ZONE
