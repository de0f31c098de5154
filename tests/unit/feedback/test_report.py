"""Report arithmetic: average rating, NPS, share resolved on time."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from loyalty.kernel.errors import InvalidInput
from loyalty.feedback.domain import FeedbackCategory, FeedbackItem, FeedbackStatus, Sentiment, Urgency
from loyalty.feedback.report import FeedbackTally, ReportQuery, feedback_report

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
DAY_AGO = NOW - timedelta(days=1)


def item(n: int, **changes) -> FeedbackItem:
    data = dict(feedback_id=f"fb-report-{n:04d}", store_id="SH-JINGAN", channel="survey", kind="survey",
                client_id="app", received_at=DAY_AGO, processed_at=DAY_AGO, categories=[FeedbackCategory.OTHER],
                primary_category=FeedbackCategory.OTHER, sentiment=Sentiment.NEUTRAL, urgency=Urgency.NORMAL,
                department="customer_service", due_at=NOW + timedelta(hours=1), request_hash="h")
    data.update(changes)
    return FeedbackItem(**data)


def test_nps_is_promoters_minus_detractors_over_responses():
    tally = FeedbackTally()
    for n, score in enumerate([10, 9, 9, 8, 7, 6, 0, 3]):
        tally.add(item(n, nps=score), NOW)
    tally.add(item(99, rating=5), NOW)  # no NPS answer: not a response

    nps = tally.summary()["nps"]

    assert nps == {"responses": 8, "promoters": 3, "passives": 2, "detractors": 3, "score": 0.0}


def test_nps_can_be_negative_and_is_none_without_responses():
    tally = FeedbackTally()
    for n, score in enumerate([2, 5, 9]):
        tally.add(item(n, nps=score), NOW)
    assert tally.summary()["nps"]["score"] == -33.3
    assert FeedbackTally().summary()["nps"]["score"] is None


def test_average_rating_ignores_items_without_one():
    tally = FeedbackTally()
    for n, rating in enumerate([5, 4, 4, None]):
        tally.add(item(n, rating=rating), NOW)

    summary = tally.summary()

    assert (summary["average_rating"], summary["ratings"], summary["count"]) == (4.33, 3, 4)


def test_on_time_share_counts_resolved_items_and_open_ones_already_late():
    resolved = dict(status=FeedbackStatus.RESOLVED, resolved_at=DAY_AGO)
    items = [
        item(1, **resolved, resolved_on_time=True),
        item(2, **resolved, resolved_on_time=True),
        item(3, **resolved, resolved_on_time=False),
        item(4, due_at=NOW - timedelta(minutes=1)),  # open and late
        item(5),  # open, not due yet: no verdict
    ]
    report = feedback_report([("SH-JINGAN", items[:3]), ("HZ-XIHU", items[3:])], NOW)

    assert report["totals"]["resolution"] == {"resolved_on_time": 2, "resolved_late": 1, "open_overdue": 1,
                                              "open_not_due": 1, "on_time_pct": 50.0}
    assert [s["resolution"]["on_time_pct"] for s in report["stores"]] == [66.7, 0.0]


@pytest.mark.parametrize("start, end", [(date(2026, 11, 18), date(2026, 11, 17)),
                                        (date(2026, 1, 1), date(2026, 4, 3))])
def test_report_ranges_are_bounded(start, end):
    with pytest.raises(InvalidInput):
        ReportQuery(from_date=start, to_date=end).check()
    ReportQuery(from_date=date(2026, 1, 1), to_date=date(2026, 4, 2)).check()  # 92 days, the most allowed
