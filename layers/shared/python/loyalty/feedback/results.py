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


class FeedbackReport(Result):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    store_id: str | None
    generated_at: IsoDateTime
    totals: FeedbackFigures
    stores: list[StoreFeedbackFigures]

    model_config = {"populate_by_name": True}

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class OverdueRun(Result):
    flagged: int
    notified: int
