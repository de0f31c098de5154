"""Composition root: builds adapters from settings on first use and hands them to the use cases.

Handlers ask `services()` for what they need. Tests build a `Services` with their own adapters
(moto-backed tables, in-memory publishers, fixed clocks and ids) and install it with `use()`. This is
the one module that joins capabilities: members get the welcome bonus from points, feedback rewards
through the points ledger, rewards spend points through it (kernel.spending), settlement reads the
program's time zone and rate from the points rules.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: importing them here would slow every cold start
    from loyalty.clients.dynamo import DynamoApiKeyRepository
    from loyalty.clients.service import ApiKeyService
    from loyalty.feedback.dynamo import DynamoFeedbackRepository
    from loyalty.feedback.queue import SqsFeedbackQueue
    from loyalty.feedback.rewarder import PointsFeedbackRewarder
    from loyalty.feedback.service import FeedbackDesk, FeedbackIntake, FeedbackProcessor, FeedbackReports, MemberFeedback
    from loyalty.kernel.ports import Clock, EventPublisher, IdGenerator
    from loyalty.members.erasure import MemberErasure
    from loyalty.members.export import MemberExports
    from loyalty.platform.settings import ExportSettings
    from loyalty.members.service import MemberService
    from loyalty.platform.settings import CoreSettings
    from loyalty.platform.stores import CachedStoreDirectory, DynamoStoreDirectory
    from loyalty.points.dynamo import DynamoExpiryIndex, DynamoPointsRepository, DynamoProgramRulesRepository
    from loyalty.points.expiry import PointsExpiry
    from loyalty.points.queue import SqsExpiryWork
    from loyalty.points.payments import PointsPayments
    from loyalty.points.spending import PointsSpending
    from loyalty.rewards.service import Redemptions, RewardCatalogue, VoucherWallet
    from loyalty.points.service import PointsActivation, PointsQueries, PointsService, ProgramAdmin
    from loyalty.insight.service import Insight
    from loyalty.kpis.dynamo import DynamoKpiAggregates, DynamoKpiRecords
    from loyalty.kpis.service import KpiCounting, KpiDigests, KpiReports, Reconciliation
    from loyalty.settlement.dynamo import DynamoSettlementCounters
    from loyalty.settlement.service import SettlementCounting, SettlementReports
    from loyalty.points.standing import PointsStandingLedger
    from loyalty.tiers.dynamo import DynamoLadderRepository, DynamoTierRecords
    from loyalty.tiers.service import TierAdmin, TierQueries, TierReviews, TierTracking


class Services:
    def __init__(self, *, table: Any = None, publisher: EventPublisher | None = None, clock: Clock | None = None,
                 ids: IdGenerator | None = None, sqs: Any = None, settings: CoreSettings | None = None,
                 feedback_queue_url: str | None = None, settlement_shards: int | None = None,
                 points_expiry_queue_url: str | None = None):
        given = {"table": table, "publisher": publisher, "clock": clock, "ids": ids, "sqs": sqs,
                 "settings": settings, "feedback_queue_url": feedback_queue_url,
                 "settlement_shards": settlement_shards, "points_expiry_queue_url": points_expiry_queue_url}
        for name, value in given.items():
            if value is not None:
                self.__dict__[name] = value  # takes the place of the cached property

    # -- platform ---------------------------------------------------------------------------------
    @cached_property
    def settings(self) -> CoreSettings:
        from loyalty.platform.settings import CoreSettings, load_settings

        return load_settings(CoreSettings)

    @cached_property
    def feedback_queue_url(self) -> str:
        from loyalty.platform.settings import FeedbackIntakeSettings, load_settings

        return load_settings(FeedbackIntakeSettings).feedback_queue_url

    @cached_property
    def points_expiry_queue_url(self) -> str:
        from loyalty.platform.settings import PointsExpirySettings, load_settings

        return load_settings(PointsExpirySettings).points_expiry_queue_url

    @cached_property
    def table(self) -> Any:
        import boto3

        return boto3.resource("dynamodb").Table(self.settings.table_name)

    @cached_property
    def publisher(self) -> EventPublisher:
        import boto3

        from loyalty.platform.eventbridge import EventBridgePublisher

        return EventBridgePublisher(boto3.client("events"), self.settings.event_bus_name)

    @cached_property
    def sqs(self) -> Any:
        import boto3

        return boto3.client("sqs")

    @cached_property
    def clock(self) -> Clock:
        from loyalty.platform.clock import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from loyalty.kernel.ids import RandomIds

        return RandomIds()

    @cached_property
    def stores(self) -> DynamoStoreDirectory:
        from loyalty.platform.stores import DynamoStoreDirectory

        return DynamoStoreDirectory(self.table)

    @cached_property
    def cached_stores(self) -> CachedStoreDirectory:
        # per container: stores change rarely, and every earning operation needs its store
        from loyalty.platform.stores import CachedStoreDirectory

        return CachedStoreDirectory(self.stores)

    # -- clients ----------------------------------------------------------------------------------
    @cached_property
    def api_keys(self) -> DynamoApiKeyRepository:
        from loyalty.clients.dynamo import DynamoApiKeyRepository

        return DynamoApiKeyRepository(self.table)

    @cached_property
    def api_key_service(self) -> ApiKeyService:
        from loyalty.clients.service import ApiKeyService

        return ApiKeyService(self.api_keys, self.clock)

    # -- members ----------------------------------------------------------------------------------
    @cached_property
    def member_service(self) -> MemberService:
        from loyalty.members.dynamo import DynamoMemberRepository
        from loyalty.members.service import MemberService

        return MemberService(
            members=DynamoMemberRepository(self.table),
            stores=self.stores,
            clock=self.clock,
            default_country_code=self.settings.default_country_code,
            welcome_bonus=self.points_service,
            ids=self.ids,
            erasure_grace_days=self.settings.erasure_grace_days,
        )

    @cached_property
    def member_erasure(self) -> MemberErasure:
        """Every capability that keeps something of a member ends it before the profile goes."""
        from loyalty.members.dynamo import DynamoMemberRepository
        from loyalty.members.erasure import MemberErasure

        from loyalty.feedback.dynamo import DynamoFeedbackMemberData

        holders = [self.voucher_wallet, self.points_payments, DynamoFeedbackMemberData(self.table)]
        if self.export_settings is not None:
            holders.append(self.member_exports)
        return MemberErasure(DynamoMemberRepository(self.table), holders, self.clock)

    @cached_property
    def export_settings(self) -> ExportSettings | None:
        """Where exports go; None in a function that has no part in them."""
        import os

        from loyalty.platform import environment as env
        from loyalty.platform.settings import ExportSettings, load_settings

        if env.EXPORT_BUCKET not in os.environ and env.EXPORT_FOLDER not in os.environ:
            return None
        return load_settings(ExportSettings)

    @cached_property
    def export_store(self) -> Any:
        from loyalty.members.storage import FolderExportStore, S3ExportStore, s3_client

        settings = self.export_settings
        if settings is None:
            raise RuntimeError("this function has no export bucket or folder")
        if settings.export_bucket:
            return S3ExportStore(s3_client(), settings.export_bucket)
        return FolderExportStore(settings.export_folder)

    @cached_property
    def export_queue(self) -> Any:
        from loyalty.members.storage import SqsExportQueue
        from loyalty.platform.settings import ExportQueueSettings, load_settings

        return SqsExportQueue(self.sqs, load_settings(ExportQueueSettings).export_queue_url)

    @cached_property
    def member_exports(self) -> MemberExports:
        """Every capability's part of a member's data, through its MemberDataSource."""
        from loyalty.feedback.dynamo import DynamoFeedbackMemberData
        from loyalty.members.dynamo import DynamoExportRepository, DynamoMemberRepository
        from loyalty.members.export import MemberExports
        from loyalty.points.dynamo import DynamoPointsMemberData
        from loyalty.rewards.dynamo import DynamoRewardsMemberData

        services = self

        class _LazyQueue:  # the worker never sends, and has no queue URL
            def send(self, member_id: str, export_id: str) -> None:
                services.export_queue.send(member_id, export_id)

        return MemberExports(DynamoMemberRepository(self.table), DynamoExportRepository(self.table),
                             [DynamoPointsMemberData(self.table), DynamoRewardsMemberData(self.table),
                              DynamoFeedbackMemberData(self.table)],
                             self.export_store, _LazyQueue(), self.clock, self.ids)

    # -- points -----------------------------------------------------------------------------------
    @cached_property
    def program_rules(self) -> DynamoProgramRulesRepository:
        # per container: the short-lived rules cache lives as long as this object
        from loyalty.points.dynamo import DynamoProgramRulesRepository

        return DynamoProgramRulesRepository(self.table)

    @cached_property
    def points_repository(self) -> DynamoPointsRepository:
        from loyalty.points.dynamo import DynamoPointsRepository
        from loyalty.tiers.dynamo import review_index_keys

        return DynamoPointsRepository(self.table, stores=self.cached_stores,
                                      balance_keys=lambda b: review_index_keys(b.member_id, b.tier_standing))

    @cached_property
    def points_service(self) -> PointsService:
        from loyalty.points.service import PointsService

        return PointsService(repo=self.points_repository, rules=self.program_rules, clock=self.clock,
                             tiers=self.tier_tracking)

    @cached_property
    def points_activation(self) -> PointsActivation:
        from loyalty.points.service import PointsActivation

        return PointsActivation(repo=self.points_repository, rules=self.program_rules, clock=self.clock)

    @cached_property
    def expiry_index(self) -> DynamoExpiryIndex:
        from loyalty.points.dynamo import DynamoExpiryIndex

        return DynamoExpiryIndex(self.table)

    @cached_property
    def expiry_work(self) -> SqsExpiryWork:
        from loyalty.points.queue import SqsExpiryWork

        return SqsExpiryWork(self.sqs, self.points_expiry_queue_url)

    @cached_property
    def points_expiry(self) -> PointsExpiry:
        from loyalty.points.expiry import PointsExpiry

        return PointsExpiry(repo=self.points_repository, index=self.expiry_index, rules=self.program_rules,
                            clock=self.clock, work=self.expiry_work)

    @cached_property
    def points_queries(self) -> PointsQueries:
        from loyalty.points.service import PointsQueries

        return PointsQueries(repo=self.points_repository, clock=self.clock, rules=self.program_rules)

    @cached_property
    def points_payments(self) -> PointsPayments:
        from loyalty.points.payments import PointsPayments

        return PointsPayments(repo=self.points_repository, rules=self.program_rules, clock=self.clock)

    @cached_property
    def program_admin(self) -> ProgramAdmin:
        from loyalty.points.service import ProgramAdmin

        return ProgramAdmin(rules=self.program_rules, clock=self.clock)

    # -- rewards: spending points through the points ledger (kernel.spending) ----------------------
    @cached_property
    def points_spending(self) -> PointsSpending:
        from loyalty.points.spending import PointsSpending

        return PointsSpending(repo=self.points_repository, rules=self.program_rules, clock=self.clock)

    @cached_property
    def reward_catalogue(self) -> RewardCatalogue:
        from loyalty.rewards.dynamo import DynamoRewardRepository
        from loyalty.rewards.service import RewardCatalogue

        return RewardCatalogue(DynamoRewardRepository(self.table), self.clock)

    @cached_property
    def redemptions(self) -> Redemptions:
        from loyalty.rewards.dynamo import DynamoRewardRepository
        from loyalty.rewards.service import Redemptions

        return Redemptions(DynamoRewardRepository(self.table), self.points_spending, self.cached_stores, self.clock)

    @cached_property
    def voucher_wallet(self) -> VoucherWallet:
        """Also the kernel.vouchers.VoucherIssuer other capabilities issue vouchers through."""
        from loyalty.rewards.dynamo import DynamoVoucherRepository
        from loyalty.rewards.service import VoucherWallet

        return VoucherWallet(DynamoVoucherRepository(self.table), self.cached_stores, self.clock)

    # -- tiers: the standing lives on the points balance (kernel.standing) --------------------------
    @cached_property
    def tier_ladder(self) -> DynamoLadderRepository:
        # per container: the short-lived ladder cache lives as long as this object
        from loyalty.tiers.dynamo import DynamoLadderRepository

        return DynamoLadderRepository(self.table)

    @cached_property
    def tier_records(self) -> DynamoTierRecords:
        from loyalty.tiers.dynamo import DynamoTierRecords

        return DynamoTierRecords(self.table)

    @cached_property
    def tier_tracking(self) -> TierTracking:
        from loyalty.tiers.service import TierTracking

        return TierTracking(self.tier_ladder, self.tier_records)

    @cached_property
    def tier_standings(self) -> PointsStandingLedger:
        from loyalty.points.standing import PointsStandingLedger

        return PointsStandingLedger(self.points_repository, self.clock)

    def _program_zone(self):
        return self.program_rules.current().zone()

    @cached_property
    def tier_reviews(self) -> TierReviews:
        from loyalty.tiers.dynamo import DynamoReviewIndex
        from loyalty.tiers.service import TierReviews

        return TierReviews(self.tier_ladder, self.tier_standings, DynamoReviewIndex(self.table), self.tier_records,
                           self.clock, self._program_zone)

    @cached_property
    def tier_admin(self) -> TierAdmin:
        from loyalty.tiers.service import TierAdmin

        return TierAdmin(self.tier_ladder, self.tier_standings, self.tier_records, self.clock, self._program_zone)

    @cached_property
    def tier_queries(self) -> TierQueries:
        from loyalty.tiers.service import TierQueries

        from loyalty.platform.member_directory import DynamoMemberDirectory

        # Birthday benefits: the birthday from the members' profile, the bonus through the points ledger.
        return TierQueries(self.tier_ladder, self.tier_standings, self.tier_records, self.clock, self._program_zone,
                           vouchers=self.voucher_wallet, birthdays=DynamoMemberDirectory(self.table),
                           bonus=self.points_service)

    # -- feedback ---------------------------------------------------------------------------------
    @cached_property
    def feedback_repository(self) -> DynamoFeedbackRepository:
        from loyalty.feedback.dynamo import DynamoFeedbackRepository

        return DynamoFeedbackRepository(self.table)

    @cached_property
    def feedback_queue(self) -> SqsFeedbackQueue:
        from loyalty.feedback.queue import SqsFeedbackQueue

        return SqsFeedbackQueue(self.sqs, self.feedback_queue_url)

    @cached_property
    def feedback_rewarder(self) -> PointsFeedbackRewarder:
        from loyalty.feedback.rewarder import PointsFeedbackRewarder

        return PointsFeedbackRewarder(self.points_service)

    @cached_property
    def feedback_intake(self) -> FeedbackIntake:
        from loyalty.feedback.service import FeedbackIntake

        from loyalty.platform.member_directory import DynamoMemberDirectory

        return FeedbackIntake(queue=self.feedback_queue, stores=self.stores, feedback=self.feedback_repository,
                              clock=self.clock, members=DynamoMemberDirectory(self.table))

    @cached_property
    def feedback_processor(self) -> FeedbackProcessor:
        from loyalty.feedback.service import FeedbackProcessor

        from loyalty.platform.member_directory import DynamoMemberDirectory

        from loyalty.feedback.segment import JiebaSegmenter

        return FeedbackProcessor(feedback=self.feedback_repository, publisher=self.publisher,
                                 rewarder=self.feedback_rewarder, clock=self.clock, words=JiebaSegmenter(),
                                 members=DynamoMemberDirectory(self.table))

    @cached_property
    def member_feedback(self) -> MemberFeedback:
        from loyalty.feedback.service import MemberFeedback
        from loyalty.platform.member_directory import DynamoMemberDirectory

        return MemberFeedback(feedback=self.feedback_repository, clock=self.clock,
                              members=DynamoMemberDirectory(self.table))

    @cached_property
    def feedback_desk(self) -> FeedbackDesk:
        from loyalty.feedback.service import FeedbackDesk

        return FeedbackDesk(feedback=self.feedback_repository, publisher=self.publisher, clock=self.clock)

    @cached_property
    def feedback_reports(self) -> FeedbackReports:
        from loyalty.feedback.service import FeedbackReports

        return FeedbackReports(feedback=self.feedback_repository, stores=self.stores, clock=self.clock)

    # -- settlement -------------------------------------------------------------------------------
    @cached_property
    def settlement_shards(self) -> int:
        from loyalty.platform.settings import SettlementSettings, load_settings

        return load_settings(SettlementSettings).settlement_shards

    @cached_property
    def settlement_counters(self) -> DynamoSettlementCounters:
        from loyalty.settlement.dynamo import DynamoSettlementCounters

        return DynamoSettlementCounters(self.table, shards=self.settlement_shards)

    @cached_property
    def settlement_counting(self) -> SettlementCounting:
        from loyalty.settlement.service import SettlementCounting

        # The program rules (their time zone) through the points capability's per-container cache.
        return SettlementCounting(counters=self.settlement_counters, rules=self.program_rules, clock=self.clock)

    @cached_property
    def settlement_reports(self) -> SettlementReports:
        from loyalty.settlement.service import SettlementReports

        return SettlementReports(counters=self.settlement_counters, rules=self.program_rules, stores=self.stores,
                                 clock=self.clock)

    # -- insight: kept from the bus; the program's zone from the points rules ---------------------
    @cached_property
    def insight(self) -> Insight:
        from loyalty.insight.dynamo import DynamoInsightRepository, DynamoTagRules
        from loyalty.insight.service import Insight

        # Win-back vouchers go into the rewards capability's wallet (kernel.vouchers.VoucherIssuer).
        from loyalty.insight.profile import LifecyclePolicy

        # Win-back vouchers go into the rewards capability's wallet (kernel.vouchers.VoucherIssuer); the
        # retention policy hands members to the members capability's erasure (kernel.ports.InactivityErasure).
        return Insight(DynamoInsightRepository(self.table), self.program_rules, self.clock,
                       policy=LifecyclePolicy(inactivity_erasure_days=self.settings.inactivity_erasure_days),
                       vouchers=self.voucher_wallet, eraser=self.member_erasure, tag_rules=DynamoTagRules(self.table))

    # -- kpis: counted from the bus; reconciled against the points ledger and the settlement ------
    @cached_property
    def kpi_aggregates(self) -> DynamoKpiAggregates:
        from loyalty.kpis.dynamo import DynamoKpiAggregates

        return DynamoKpiAggregates(self.table)

    @cached_property
    def kpi_records(self) -> DynamoKpiRecords:
        from loyalty.kpis.dynamo import DynamoKpiRecords

        return DynamoKpiRecords(self.table)

    @cached_property
    def kpi_counting(self) -> KpiCounting:
        from loyalty.kpis.service import KpiCounting

        return KpiCounting(self.kpi_aggregates, self.program_rules, self.cached_stores, self.clock)

    @cached_property
    def kpi_reports(self) -> KpiReports:
        from loyalty.kpis.service import KpiReports

        return KpiReports(self.kpi_aggregates, self.program_rules, self.stores, self.clock)

    @cached_property
    def kpi_digests(self) -> KpiDigests:
        from loyalty.kpis.service import KpiDigests

        return KpiDigests(self.kpi_aggregates, self.kpi_records, self.program_rules, self.clock)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        from loyalty.kpis.service import Reconciliation
        from loyalty.points.dynamo import DynamoLedgerBooks

        # The members' books as the points capability stores them; the chain's figures as settlement counts them.
        return Reconciliation(self.kpi_aggregates, self.kpi_records, DynamoLedgerBooks(self.table),
                              self.settlement_reports, self.program_rules, self.clock)


_current: Services | None = None


def services() -> Services:
    global _current
    if _current is None:
        _current = Services()
    return _current


def use(replacement: Services | None) -> None:
    """Install the services handlers use (None goes back to building them from the environment)."""
    global _current
    _current = replacement
