"""Composition root: builds adapters from settings on first use and hands them to the use cases.

Handlers ask `services()` for what they need. Tests build a `Services` with their own adapters
(moto-backed tables, in-memory publishers, fixed clocks) and install it with `use()`.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

from loyalty.settings import CoreSettings, FeedbackIntakeSettings, load_settings


class Services:
    def __init__(self, *, table: Any = None, publisher: Any = None, clock: Any = None, sqs: Any = None,
                 settings: CoreSettings | None = None, feedback_queue_url: str | None = None):
        if table is not None:
            self.__dict__["table"] = table
        if publisher is not None:
            self.__dict__["publisher"] = publisher
        if clock is not None:
            self.__dict__["clock"] = clock
        if sqs is not None:
            self.__dict__["sqs"] = sqs
        if settings is not None:
            self.__dict__["settings"] = settings
        if feedback_queue_url is not None:
            self.__dict__["feedback_queue_url"] = feedback_queue_url

    @cached_property
    def settings(self) -> CoreSettings:
        return load_settings(CoreSettings)

    @cached_property
    def feedback_queue_url(self) -> str:
        return load_settings(FeedbackIntakeSettings).feedback_queue_url

    @cached_property
    def table(self):
        import boto3

        return boto3.resource("dynamodb").Table(self.settings.table_name)

    @cached_property
    def publisher(self):
        import boto3

        from loyalty.adapters.events import EventBridgePublisher

        return EventBridgePublisher(boto3.client("events"), self.settings.event_bus_name)

    @cached_property
    def sqs(self):
        import boto3

        return boto3.client("sqs")

    @cached_property
    def clock(self):
        from loyalty.adapters.clock import SystemClock

        return SystemClock()

    @cached_property
    def stores(self):
        from loyalty.adapters.members_repo import DynamoStoreDirectory

        return DynamoStoreDirectory(self.table)

    @cached_property
    def api_keys(self):
        from loyalty.adapters.members_repo import DynamoApiKeyRepository

        return DynamoApiKeyRepository(self.table)

    @cached_property
    def api_key_service(self):
        from loyalty.app.auth import ApiKeyService

        return ApiKeyService(self.api_keys, self.clock)

    @cached_property
    def member_service(self):
        from loyalty.adapters.members_repo import DynamoMemberRepository
        from loyalty.app.members import MemberService

        return MemberService(
            members=DynamoMemberRepository(self.table),
            stores=self.stores,
            clock=self.clock,
            default_country_code=self.settings.default_country_code,
            welcome_bonus=self.points_service,
        )

    @cached_property
    def program_rules(self):
        # per container: the short-lived rules cache lives as long as this object
        from loyalty.adapters.points_repo import DynamoProgramRulesRepository

        return DynamoProgramRulesRepository(self.table)

    @cached_property
    def points_service(self):
        from loyalty.adapters.points_repo import DynamoPointsRepository
        from loyalty.app.points import PointsService

        return PointsService(
            repo=DynamoPointsRepository(self.table),
            rules=self.program_rules,
            clock=self.clock,
        )

    @cached_property
    def feedback_repository(self):
        from loyalty.adapters.feedback_repo import DynamoFeedbackRepository

        return DynamoFeedbackRepository(self.table)

    @cached_property
    def feedback_queue(self):
        from loyalty.adapters.feedback_queue import SqsFeedbackQueue

        return SqsFeedbackQueue(self.sqs, self.feedback_queue_url)

    @cached_property
    def feedback_rewarder(self):
        from loyalty.adapters.feedback_rewarder import PointsFeedbackRewarder

        return PointsFeedbackRewarder(self.points_service)

    @cached_property
    def feedback_intake(self):
        from loyalty.app.feedback import FeedbackIntake

        return FeedbackIntake(queue=self.feedback_queue, stores=self.stores, feedback=self.feedback_repository,
                              clock=self.clock)

    @cached_property
    def feedback_processor(self):
        from loyalty.app.feedback import FeedbackProcessor

        return FeedbackProcessor(feedback=self.feedback_repository, publisher=self.publisher,
                                 rewarder=self.feedback_rewarder, clock=self.clock)

    @cached_property
    def feedback_desk(self):
        from loyalty.app.feedback import FeedbackDesk

        return FeedbackDesk(feedback=self.feedback_repository, publisher=self.publisher, clock=self.clock)

    @cached_property
    def feedback_reports(self):
        from loyalty.app.feedback import FeedbackReports

        return FeedbackReports(feedback=self.feedback_repository, stores=self.stores, clock=self.clock)


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
