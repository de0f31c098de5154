"""Handling KPIs from counters: what each change adds, and the figures the counters give."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from loyalty.feedback.domain import FeedbackAction as A, FeedbackCategory, FeedbackItem, Outcome, Sentiment, Urgency
from loyalty.feedback.kpis import StatDelta, change_deltas, handling_kpis, merged

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai


def item(**changes) -> FeedbackItem:
    data = dict(feedback_id="SH-JINGAN-T01-0001", store_id="SH-JINGAN", channel="pos", kind="complaint",
                client_id="pos-sh-jingan", received_at=NOW, processed_at=NOW,
                categories=[FeedbackCategory.SERVICE_ATTITUDE], primary_category=FeedbackCategory.SERVICE_ATTITUDE,
                sentiment=Sentiment.NEGATIVE, urgency=Urgency.NORMAL, department="customer_service",
                due_at=NOW + timedelta(hours=48), request_hash="h")
    return FeedbackItem(**(data | changes))


def test_a_final_outcome_counts_for_the_chain_store_department_and_assignee_on_its_china_day():
    before = item(assignee="li")
    after, _ = before.transition(A.RESOLVED, now=NOW + timedelta(hours=1), client_id="c", expected_version=None,
                                 reply="已处理")

    deltas = change_deltas(before, after, A.RESOLVED, NOW + timedelta(hours=1))

    assert {(d.dimension, d.value) for d in deltas} == {("all", "*"), ("store", "SH-JINGAN"),
                                                        ("department", "customer_service"), ("assignee", "li")}
    assert all(d.day == date(2026, 11, 19) for d in deltas)  # 00:30 the next day in Shanghai
    assert deltas[0].add == {"outcomes": 1, "resolved": 1, "first_time": 1, "on_time": 1, "handled": 1,
                             "handling_seconds": 3600, "h_le_1": 1}


def test_deltas_for_the_same_counter_item_are_merged_and_zeros_dropped():
    day = date(2026, 11, 18)
    deltas = [StatDelta(day, "all", "*", {"reopened": 1}), StatDelta(day, "all", "*", {"first_time": -1}),
              StatDelta(day, "all", "*", {"reopened": -1})]

    assert merged(deltas) == [StatDelta(day, "all", "*", {"first_time": -1})]


def test_p90_is_the_bucket_holding_the_90th_percentile():
    rows = [{"dimension": "all", "value": "*", "handled": 10, "handling_seconds": 36000, "h_le_1": 8, "h_le_24": 1,
             "h_gt_336": 1}]

    assert handling_kpis(rows)["totals"]["p90_handling_hours"] == 24.0
    rows[0]["h_le_24"], rows[0]["h_gt_336"] = 0, 2
    assert handling_kpis(rows)["totals"]["p90_handling_hours"] is None  # beyond the last bound


def test_rating_again_replaces_the_rating_in_the_sums():
    resolved, _ = item().transition(A.RESOLVED, now=NOW, client_id="c", expected_version=None, reply="好")
    rated, _ = resolved.transition(A.RATED, now=NOW, client_id="app", expected_version=None, rating=5)
    again, _ = rated.transition(A.RATED, now=NOW, client_id="app", expected_version=None, rating=2)

    first = change_deltas(resolved, rated, A.RATED, NOW)[0].add
    second = change_deltas(rated, again, A.RATED, NOW)[0].add

    assert first == {"ratings": 1, "rating_sum": 5, "satisfied": 1}
    assert second == {"rating_sum": -3, "satisfied": -1}


def test_in_progress_counts_as_an_answer_not_an_outcome():
    before = item()
    after, _ = before.transition(A.RESOLVED, now=NOW, client_id="c", expected_version=None, reply="处理中",
                                 outcome=Outcome.IN_PROGRESS, expected_at=NOW + timedelta(days=3))

    assert change_deltas(before, after, A.RESOLVED, NOW)[0].add == {"in_progress": 1}
