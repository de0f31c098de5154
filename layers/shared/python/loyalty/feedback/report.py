"""Feedback figures for a period: counts, average rating, NPS and how much was resolved on time."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from pydantic import ConfigDict, BaseModel

from loyalty.kernel.errors import InvalidInput
from loyalty.feedback.domain import FeedbackCategory, FeedbackItem, FeedbackStatus, Sentiment, Urgency

MAX_REPORT_DAYS = 92  # a quarter: the report reads items, so its range is bounded (see docs/table-design.md)


class ReportQuery(BaseModel):
    model_config = ConfigDict(defer_build=True)

    from_date: date
    to_date: date
    store_id: str | None = None

    def check(self) -> None:
        # A store's local day is turned into UTC instants: the first and last days a datetime holds have none.
        if self.from_date.year < 2:
            raise InvalidInput("from must be in year 2 or later", field="from")
        if self.to_date.year > 9998:
            raise InvalidInput("to must be in year 9998 or earlier", field="to")
        if self.to_date < self.from_date:
            raise InvalidInput("to must not be before from", field="to")
        if (self.to_date - self.from_date).days + 1 > MAX_REPORT_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_REPORT_DAYS} days", field="to",
                               details={"max_days": MAX_REPORT_DAYS})


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class FeedbackTally:
    """Running figures for one store or the whole chain."""

    count: int = 0
    by_category: dict[str, int] = field(default_factory=lambda: {c.value: 0 for c in FeedbackCategory})
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in FeedbackStatus})
    by_urgency: dict[str, int] = field(default_factory=lambda: {u.value: 0 for u in Urgency})
    by_sentiment: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Sentiment})
    rating_sum: int = 0
    ratings: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    open_overdue: int = 0
    open_not_due: int = 0

    def add(self, item: FeedbackItem, now: datetime) -> None:
        self.count += 1
        self.by_category[item.primary_category.value] += 1
        self.by_status[item.status.value] += 1
        self.by_urgency[item.urgency.value] += 1
        self.by_sentiment[item.sentiment.value] += 1
        if item.rating is not None:
            self.rating_sum += item.rating
            self.ratings += 1
        if item.nps is not None:
            if item.nps >= 9:
                self.promoters += 1
            elif item.nps >= 7:
                self.passives += 1
            else:
                self.detractors += 1
        if item.status == FeedbackStatus.RESOLVED:
            if item.resolved_on_time:
                self.resolved_on_time += 1
            else:
                self.resolved_late += 1
        elif item.is_overdue(now):
            self.open_overdue += 1
        else:
            self.open_not_due += 1

    def summary(self) -> dict:
        responses = self.promoters + self.passives + self.detractors
        decided = self.resolved_on_time + self.resolved_late + self.open_overdue
        return {
            "count": self.count,
            "by_category": dict(self.by_category),
            "by_status": dict(self.by_status),
            "by_urgency": dict(self.by_urgency),
            "by_sentiment": dict(self.by_sentiment),
            "average_rating": round(self.rating_sum / self.ratings, 2) if self.ratings else None,
            "ratings": self.ratings,
            "nps": {
                "responses": responses,
                "promoters": self.promoters,
                "passives": self.passives,
                "detractors": self.detractors,
                # promoters (9-10) minus detractors (0-6), as a percentage of NPS responses: -100..100
                "score": _pct(self.promoters - self.detractors, responses),
            },
            "resolution": {
                "resolved_on_time": self.resolved_on_time,
                "resolved_late": self.resolved_late,
                "open_overdue": self.open_overdue,
                "open_not_due": self.open_not_due,
                # Of the items whose deadline outcome is known (resolved, or open past due): share on time.
                "on_time_pct": _pct(self.resolved_on_time, decided),
            },
        }


def feedback_report(per_store: Iterable[tuple[str, Iterable[FeedbackItem]]], now: datetime) -> dict:
    """Chain totals and one summary per store, stores in the order given."""
    total = FeedbackTally()
    stores = []
    for store_id, items in per_store:
        tally = FeedbackTally()
        for item in items:
            tally.add(item, now)
            total.add(item, now)
        stores.append({"store_id": store_id, **tally.summary()})
    return {"totals": total.summary(), "stores": stores}
