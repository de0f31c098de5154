"""What the feedback use cases answer; each model is also the OpenAPI schema of its response."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from loyalty.feedback.config import FeedbackConfig
from loyalty.feedback.domain import FeedbackHistoryEntry, FeedbackRecord
from loyalty.kernel.models import IsoDateTime, Result


class FeedbackAccepted(Result):
    feedback_id: str
    status: Literal["accepted"] = Field(default="accepted", description="The feedback is queued for classification and routing")
    received_at: IsoDateTime


class FeedbackView(FeedbackRecord):
    """A feedback item as staff see it (`overdue` as of the request)."""

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class FeedbackDetail(FeedbackView):
    history: list[FeedbackHistoryEntry] = Field(description="Every change, oldest first")

    def body(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude={"history"})
        body["history"] = [entry.model_dump(mode="json", exclude_none=True) for entry in self.history]
        return body


class FeedbackList(Result):
    items: list[FeedbackView]
    next_cursor: str | None = Field(description="Pass back as cursor for the next page; null on the last")

    def body(self) -> dict[str, Any]:
        return {"items": [item.body() for item in self.items], "next_cursor": self.next_cursor}


class FeedbackConfigView(FeedbackConfig):
    """The configuration in force; send it back with PUT (its `version`) to change it."""

    version: int = Field(description="0: the built-in defaults, never saved")
    source: Literal["stored", "default"]
    updated_at: datetime | None = None
    updated_by: str | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class NpsFigures(Result):
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None = Field(description="Promoters minus detractors, % of responses (-100..100)")


class ResolutionFigures(Result):
    resolved_on_time: int
    resolved_late: int
    open_overdue: int
    open_not_due: int
    on_time_pct: float | None = Field(description="Of items whose deadline outcome is known, % on time")


class FeedbackFigures(Result):
    count: int
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_urgency: dict[str, int]
    by_sentiment: dict[str, int]
    average_rating: float | None
    ratings: int
    nps: NpsFigures
    resolution: ResolutionFigures


class StoreFeedbackFigures(FeedbackFigures):
    store_id: str


class HandlingFigures(Result):
    """How well feedback is handled, from the counters kept as it happens (never by reading the items)."""

    received: int
    outcomes: int = Field(description="Final outcomes given: resolved or cannot_resolve")
    resolved: int
    cannot_resolve: int
    in_progress_answers: int = Field(description="in_progress outcomes given (the member got an expected date)")
    reopened: int
    resolution_rate_pct: float | None = Field(description="Resolved, % of final outcomes")
    first_time_resolution_pct: float | None = Field(description="Resolved at the first outcome and never reopened, "
                                                                "% of final outcomes")
    on_time_pct: float | None = Field(description="Final outcomes answered by the due time, %")
    reopen_rate_pct: float | None = Field(description="Reopenings, % of final outcomes")
    average_handling_hours: float | None = Field(description="Receipt (or reopening) to final outcome")
    p90_handling_hours: float | None = Field(description="Upper bound of the histogram bucket holding the 90th "
                                                         "percentile (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336 h); "
                                                         "null beyond 336 h")
    ratings: int
    average_satisfaction: float | None = Field(description="The members' ratings of the handling, 1-5")
    satisfied_pct: float | None = Field(description="Ratings of 4 or 5, %")


class StoreHandling(HandlingFigures):
    store: str


class DepartmentHandling(HandlingFigures):
    department: str


class AssigneeHandling(HandlingFigures):
    assignee: str


class HandlingReport(Result):
    totals: HandlingFigures
    by_store: list[StoreHandling]
    by_department: list[DepartmentHandling]
    by_assignee: list[AssigneeHandling]


class FeedbackReport(Result):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    store_id: str | None
    generated_at: IsoDateTime
    totals: FeedbackFigures
    stores: list[StoreFeedbackFigures]
    handling: HandlingReport = Field(description="Handling KPIs for the days from..to (UTC+8 days)")

    model_config = {"populate_by_name": True}

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class OverdueRun(Result):
    flagged: int
    notified: int
