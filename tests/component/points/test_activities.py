"""Activities (check-in, review, feedback...) and their caps, over HTTP and in-process, on moto."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import points
from loyalty.kernel.errors import MemberNotFound
from loyalty.points.errors import ActivityCapReached
from tests.component.points.conftest import call, set_rules
from tests.conftest import POS_HZ, POS_SH

ACTIVITIES = "/v1/members/{member_id}/activities"


def activity(ctx, member_id, activity_id, activity_type, occurred_at: datetime, store_id="SH-JINGAN", client=POS_SH):
    body = {"activity_id": activity_id, "type": activity_type, "occurred_at": occurred_at.isoformat()}
    if store_id:
        body["store_id"] = store_id
    return call(points, ctx, "POST", ACTIVITIES, member_id=member_id, body=body, client=client)


def test_check_in_earns_once_per_local_day(services, member, ctx, clock, publisher):
    morning = clock.now() - timedelta(hours=1)  # 18 Nov, 09:00 in Shanghai
    status, result = activity(ctx, member, "CHK-1", "check_in", morning)
    assert status == 201 and result["points"] == 5 and result["local_date"] == "2026-11-18"
    status, result = activity(ctx, member, "CHK-2", "check_in", clock.now())
    assert status == 422
    assert (result["error"]["code"], result["error"]["field"]) == ("ACTIVITY_CAP_REACHED", "type")
    # 17 Nov 16:30 UTC is 18 Nov in Shanghai too: same local day, still refused
    assert activity(ctx, member, "CHK-3", "check_in", datetime(2026, 11, 17, 16, 30, tzinfo=timezone.utc))[0] == 422
    # 17 Nov 15:30 UTC is 17 Nov 23:30 in Shanghai: another local day
    assert activity(ctx, member, "CHK-4", "check_in", datetime(2026, 11, 17, 15, 30, tzinfo=timezone.utc))[0] == 201
    assert publisher.types().count("PointsEarned.v1") == 2


def test_a_refused_activity_records_nothing(services, member, ctx, clock):
    activity(ctx, member, "CHK-1", "check_in", clock.now())
    activity(ctx, member, "CHK-2", "check_in", clock.now())
    page = call(points, ctx, "GET", "/v1/members/{member_id}/ledger", member_id=member)[1]
    assert [e["reference"]["id"] for e in page["items"]] == ["CHK-1"]


def test_an_activity_replay_is_idempotent(services, member, ctx, clock):
    first = activity(ctx, member, "REV-1", "review", clock.now())
    again = activity(ctx, member, "REV-1", "review", clock.now())
    other = activity(ctx, member, "REV-1", "survey", clock.now())
    assert (first[0], again[0], other[0]) == (201, 200, 409)
    assert again[1] == first[1]
    assert other[1]["error"]["field"] == "activity_id"


def test_feedback_is_capped_per_month_in_process(services, member, clock):
    set_rules(services, late_purchase_days=30, activities={"feedback": {"points": 10, "monthly_cap": 2}})
    service = services.points_service
    earn = lambda fid, at: service.earn_activity(member, activity_id=fid, activity_type="feedback", occurred_at=at)  # noqa: E731
    assert earn("fbk_1", clock.now()).created
    assert earn("fbk_2", clock.now() - timedelta(days=1)).created
    assert not earn("fbk_2", clock.now() - timedelta(days=1)).created  # the replay is no new feedback
    with pytest.raises(ActivityCapReached):
        earn("fbk_3", clock.now())
    # 31 Oct 17:00 UTC is 1 Nov in Shanghai (same month, refused); 31 Oct 15:00 UTC is still October
    with pytest.raises(ActivityCapReached):
        earn("fbk_4", datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc))
    assert earn("fbk_5", datetime(2026, 10, 31, 15, 0, tzinfo=timezone.utc)).result.body()["local_date"] == "2026-10-31"
    assert services.points_queries.balance(member, _pos()).available == 30


def test_daily_and_monthly_caps_both_hold(services, member, ctx, clock):
    set_rules(services, activities={"review": {"points": 20, "daily_cap": 2, "monthly_cap": 3}})
    today, yesterday = clock.now(), clock.now() - timedelta(days=1)
    results = [activity(ctx, member, f"R-{i}", "review", at)[0]
               for i, at in enumerate([today, today, today, yesterday, yesterday])]
    assert results == [201, 201, 422, 201, 422]


@pytest.mark.parametrize("cap, earlier", [
    ({"daily_cap": 2}, [0, 0]),  # the race fills the day
    ({"monthly_cap": 2}, [0, -2]),  # ...or the month, from another day
    ({"daily_cap": 2, "monthly_cap": 3}, [0, -1, -2]),  # ...or the month, with the day's cap not reached
])
def test_a_cap_filled_while_an_activity_is_drafted_refuses_it(services, member, clock, cap, earlier):
    """Another activity of the type commits between this one's read and write, taking the last place
    under the cap: this one is read again and refused, and the type is counted exactly to its cap."""
    set_rules(services, late_purchase_days=30, activities={"review": {"points": 20, **cap}})
    service, repo = services.points_service, services.points_repository
    earn = lambda aid, days_ago: service.earn_activity(  # noqa: E731
        member, activity_id=aid, activity_type="review", occurred_at=clock.now() + timedelta(days=days_ago))
    for i, days_ago in enumerate(earlier[:-1]):
        assert earn(f"R-{i}", days_ago).created
    real_commit, raced = repo.commit, []

    def commit_after_another(plan):
        if not raced:
            raced.append(None)
            raced[0] = earn("R-RACE", earlier[-1])  # runs to completion first
        return real_commit(plan)

    repo.commit = commit_after_another
    try:
        with pytest.raises(ActivityCapReached):
            earn("R-LATE", 0)
    finally:
        repo.commit = real_commit
    assert raced[0].created
    balance = services.points_queries.balance(member, _pos())
    assert balance.available == 20 * len(earlier)
    page = services.points_queries.ledger(member, _pos())
    assert "R-LATE" not in [e.reference.id for e in page.items]


def test_an_unknown_activity_type_is_a_400(services, member, ctx, clock):
    status, result = activity(ctx, member, "X-1", "karaoke", clock.now())
    assert status == 400 and result["error"]["code"] == "UNKNOWN_ACTIVITY_TYPE"


def test_a_pos_cannot_post_an_activity_for_another_store(services, member, ctx, clock):
    assert activity(ctx, member, "E-1", "event_attendance", clock.now(), store_id="HZ-XIHU", client=POS_SH)[0] == 403
    assert activity(ctx, member, "E-1", "event_attendance", clock.now(), store_id="HZ-XIHU", client=POS_HZ)[0] == 201


def test_an_activity_without_a_store_uses_the_program_time_zone(services, member, ctx, clock):
    status, result = activity(ctx, member, "S-1", "survey", datetime(2026, 11, 17, 16, 30, tzinfo=timezone.utc),
                              store_id=None)
    assert status == 201 and result["local_date"] == "2026-11-18"


def test_an_activity_for_an_unknown_member_is_a_404(services, clock):
    with pytest.raises(MemberNotFound):
        services.points_service.earn_activity("mbr_00000000000000000000000000", activity_id="a",
                                              activity_type="check_in", occurred_at=clock.now())


def _pos():
    from loyalty.kernel.identity import ClientIdentity

    return ClientIdentity.from_context(POS_SH)


def test_cap_counters_outlive_the_longest_late_posting_window_the_rules_allow(services, member, ctx, clock):
    """A window widened after the fact must still find the period's count, so counters are not
    expired by today's (shorter) setting."""
    from datetime import date

    from loyalty.points.program import MAX_LATE_POSTING_DAYS

    assert activity(ctx, member, "REV-1", "review", clock.now())[0] == 201
    counter = services.table.get_item(Key={"PK": f"MEMBER#{member}", "SK": "ACTIVITY#review#2026-11"})["Item"]
    month_end = datetime.combine(date(2026, 11, 30), datetime.min.time(), tzinfo=timezone.utc)
    assert int(counter["expires_at"]) >= (month_end + timedelta(days=MAX_LATE_POSTING_DAYS)).timestamp()
    assert (counter["month_count"], counter["d18"]) == (1, 1)
