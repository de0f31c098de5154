"""Status transitions, versions and the history entry each change produces."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyalty.feedback.errors import InvalidTransition
from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.feedback.domain import (
    FeedbackAction as A, FeedbackCategory, FeedbackItem, FeedbackStatus as S, Outcome, Sentiment, Urgency,
)

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


def item(status: S = S.NEW, **changes) -> FeedbackItem:
    data = dict(feedback_id="SH-JINGAN-T01-0001", store_id="SH-JINGAN", channel="pos", kind="complaint",
                rating=2, text="收银员态度冷漠", client_id="pos-sh-jingan", received_at=NOW, processed_at=NOW,
                categories=[FeedbackCategory.SERVICE_ATTITUDE], primary_category=FeedbackCategory.SERVICE_ATTITUDE,
                sentiment=Sentiment.NEGATIVE, urgency=Urgency.NORMAL, department="store_operations",
                due_at=NOW + timedelta(hours=48), status=status, request_hash="h", version=1)
    data.update(changes)
    return FeedbackItem(**data)


ALLOWED = {
    (S.NEW, A.ACKNOWLEDGED): S.ACKNOWLEDGED,
    (S.NEW, A.ASSIGNED): S.ASSIGNED,
    (S.NEW, A.RESOLVED): S.RESOLVED,
    (S.ACKNOWLEDGED, A.ASSIGNED): S.ASSIGNED,
    (S.ACKNOWLEDGED, A.RESOLVED): S.RESOLVED,
    (S.ASSIGNED, A.ASSIGNED): S.ASSIGNED,
    (S.ASSIGNED, A.RESOLVED): S.RESOLVED,
    (S.IN_PROGRESS, A.ASSIGNED): S.ASSIGNED,
    (S.IN_PROGRESS, A.RESOLVED): S.RESOLVED,
    (S.REOPENED, A.ACKNOWLEDGED): S.ACKNOWLEDGED,
    (S.REOPENED, A.ASSIGNED): S.ASSIGNED,
    (S.REOPENED, A.RESOLVED): S.RESOLVED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", [A.ACKNOWLEDGED, A.ASSIGNED, A.RESOLVED])
def test_transition_table(status, action):
    before = item(status, assignee="someone-else" if status == S.ASSIGNED else None)
    kwargs = {"assignee": "qa-zhang"} if action == A.ASSIGNED else {"note": "已处理"}
    target = ALLOWED.get((status, action))

    if target is None:
        with pytest.raises(InvalidTransition) as refused:
            before.transition(action, now=NOW, client_id="backoffice", expected_version=None, **kwargs)
        assert refused.value.field == "status"
        return
    after, entry = before.transition(action, now=NOW, client_id="backoffice", expected_version=None, **kwargs)
    assert after.status == target and after.version == before.version + 1
    assert (entry.action, entry.from_status, entry.to_status, entry.version) == (action, status, target, 2)
    assert before.status == status  # the original is untouched


def test_a_stale_expected_version_is_refused_before_anything_else():
    with pytest.raises(ConcurrentUpdate) as refused:
        item(S.RESOLVED, version=4).transition(A.RESOLVED, now=NOW, client_id="c", expected_version=3, note="x")
    assert refused.value.details == {"current_version": 4}


def test_assigning_to_the_same_person_again_is_refused():
    with pytest.raises(InvalidTransition):
        item(S.ASSIGNED, assignee="qa-zhang").transition(A.ASSIGNED, now=NOW, client_id="c", expected_version=None,
                                                         assignee="qa-zhang")


def test_resolution_records_the_note_and_whether_it_was_on_time():
    on_time, _ = item().transition(A.RESOLVED, now=NOW + timedelta(hours=48), client_id="c", expected_version=1,
                                   note="已致电道歉")
    late, entry = item().transition(A.RESOLVED, now=NOW + timedelta(hours=48, seconds=1), client_id="c",
                                    expected_version=1, note="已致电道歉", by="emp-7")

    assert (on_time.resolved_on_time, late.resolved_on_time) == (True, False)
    assert (late.resolution_note, entry.note, entry.by, entry.client_id) == ("已致电道歉", "已致电道歉", "emp-7", "c")


def test_overdue_is_the_flag_or_an_open_item_past_due():
    due = NOW + timedelta(hours=48)
    assert not item().is_overdue(due)
    assert item().is_overdue(due + timedelta(seconds=1))
    assert not item(S.RESOLVED).is_overdue(due + timedelta(days=1))
    assert item(S.RESOLVED, overdue=True).is_overdue(NOW)  # went overdue before it was resolved


def test_an_in_progress_outcome_stays_open_and_is_due_on_its_expected_date():
    expected = NOW + timedelta(days=5)
    after, entry = item().transition(A.RESOLVED, now=NOW + timedelta(hours=2), client_id="c", expected_version=1,
                                     outcome=Outcome.IN_PROGRESS, reply="已联系厂家，预计五天内换货", expected_at=expected)

    assert (after.status, after.outcome, after.due_at, after.expected_at) == (S.IN_PROGRESS, Outcome.IN_PROGRESS,
                                                                            expected, expected)
    assert after.is_open and after.resolved_at is None and after.resolved_on_time is True  # answered in time
    assert (entry.to_status, entry.reply, entry.due_at) == (S.IN_PROGRESS, "已联系厂家，预计五天内换货", expected)

    done, _ = after.transition(A.RESOLVED, now=NOW + timedelta(days=4), client_id="c", expected_version=2,
                               reply="已换货")
    assert (done.status, done.outcome, done.expected_at, done.first_resolved_at) == (
        S.RESOLVED, Outcome.RESOLVED, None, NOW + timedelta(days=4))


def test_cannot_resolve_keeps_the_reason_for_the_member_and_the_note_for_staff():
    after, _ = item().transition(A.RESOLVED, now=NOW, client_id="c", expected_version=None,
                                 outcome=Outcome.CANNOT_RESOLVE, reply="抱歉", reason="该商品已停产", note="供应商已退出")

    assert (after.status, after.outcome_reason, after.resolution_note) == (S.RESOLVED, "该商品已停产", "供应商已退出")


@pytest.mark.parametrize("status", list(S))
def test_only_an_outcome_can_be_rated_and_only_a_resolved_one_reopened(status):
    before = item(status)
    for action, allowed, kwargs in [(A.RATED, {S.RESOLVED, S.IN_PROGRESS}, {"rating": 4}),
                                    (A.REOPENED, {S.RESOLVED}, {"reopen_due_hours": 24})]:
        if status in allowed:
            after, _ = before.transition(action, now=NOW, client_id="app", expected_version=None, **kwargs)
            assert after.version == 2
        else:
            with pytest.raises(InvalidTransition):
                before.transition(action, now=NOW, client_id="app", expected_version=None, **kwargs)


def test_reopening_goes_back_to_the_department_due_sooner_and_clears_the_last_outcome_state():
    resolved, _ = item(overdue=True, overdue_at=NOW).transition(A.RESOLVED, now=NOW + timedelta(hours=50),
                                                                client_id="c", expected_version=None, reply="已退款")
    rated, _ = resolved.transition(A.RATED, now=NOW + timedelta(hours=51), client_id="app", expected_version=None,
                                   rating=1)
    reopened, entry = rated.transition(A.REOPENED, now=NOW + timedelta(hours=52), client_id="app",
                                       expected_version=3, note="退款没到账", reopen_due_hours=24)

    assert (reopened.status, reopened.department, reopened.reopen_count) == (S.REOPENED, "store_operations", 1)
    assert reopened.due_at == NOW + timedelta(hours=76)
    assert (reopened.overdue, reopened.resolved_at, reopened.reopened_from_version) == (False, None, 3)
    assert reopened.first_resolved_at == NOW + timedelta(hours=50)  # first-time resolution is lost for good
    assert (entry.action, entry.note, entry.due_at) == (A.REOPENED, "退款没到账", NOW + timedelta(hours=76))
    assert rated.satisfaction == 1 and reopened.satisfaction == 1  # until the next outcome
