"""The local run's scheduler fires each schedule when the stack's EventBridge rule would: every N minutes,
or daily at a time of a zone (cron in UTC on AWS)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from infra.resources import SCHEDULES, ScheduleSpec
from local.pollers import Scheduler

EXPIRY = next(s for s in SCHEDULES if s.logical_id == "PointsExpirySchedule")
EVERY_15 = ScheduleSpec(logical_id="Every15", function="f", description="d", rate_minutes=15)


class Runtime:
    def __init__(self):
        self.invoked = []

    def invoke(self, function, event):
        self.invoked.append((function, event["detail-type"]))
        return {}


def test_the_expiry_job_runs_daily_at_five_past_midnight_in_shanghai():
    assert (EXPIRY.daily_at, EXPIRY.timezone, EXPIRY.expression()) == ("00:05", "Asia/Shanghai", "cron(5 16 * * ? *)")
    assert EXPIRY.next_run(datetime(2026, 12, 31, 16, 4, 59, tzinfo=timezone.utc)) == \
        datetime(2026, 12, 31, 16, 5, tzinfo=timezone.utc)
    assert EXPIRY.next_run(datetime(2026, 12, 31, 16, 5, tzinfo=timezone.utc)) == \
        datetime(2027, 1, 1, 16, 5, tzinfo=timezone.utc)


def test_a_schedule_is_a_rate_or_a_daily_time_in_a_zone_without_daylight_saving():
    with pytest.raises(ValueError):
        ScheduleSpec(logical_id="X", function="f", description="d")
    with pytest.raises(ValueError):
        ScheduleSpec(logical_id="X", function="f", description="d", rate_minutes=5, daily_at="00:05")
    with pytest.raises(ValueError, match="offset"):
        ScheduleSpec(logical_id="X", function="f", description="d", daily_at="00:05", timezone="Europe/Berlin")


def test_a_monthly_schedule_fires_on_its_day_in_its_zone_which_may_be_the_day_before_in_utc():
    first = ScheduleSpec(logical_id="X", function="f", description="d", daily_at="02:00", timezone="Asia/Shanghai",
                         day_of_month=1)
    assert first.expression() == "cron(0 18 L * ? *)"  # 02:00 on the 1st in Shanghai: the last day's 18:00 UTC
    assert first.next_run(datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 12, 31, 18, 0, tzinfo=timezone.utc)
    assert first.next_run(datetime(2027, 1, 31, 18, 0, tzinfo=timezone.utc)) == \
        datetime(2027, 2, 28, 18, 0, tzinfo=timezone.utc)
    tenth = ScheduleSpec(logical_id="X", function="f", description="d", daily_at="09:00", timezone="Asia/Shanghai",
                         day_of_month=10)
    assert tenth.expression() == "cron(0 1 10 * ? *)"
    with pytest.raises(ValueError, match="monthly"):
        ScheduleSpec(logical_id="X", function="f", description="d", rate_minutes=5, day_of_month=31)


def test_the_scheduler_fires_each_schedule_at_its_time():
    now = [datetime(2026, 12, 31, 15, 58, tzinfo=timezone.utc)]
    runtime = Runtime()
    scheduler = Scheduler(runtime, threading.Event(), schedules=(EVERY_15, EXPIRY), now=lambda: now[0])
    assert scheduler.poll_once() == []
    now[0] += timedelta(minutes=7)  # 16:05 UTC: 00:05 in Shanghai
    assert scheduler.poll_once() == ["PointsExpirySchedule"]
    assert scheduler.poll_once() == []
    now[0] += timedelta(minutes=8)  # 15 minutes after the start
    assert scheduler.poll_once() == ["Every15"]
    now[0] += timedelta(days=1)
    assert sorted(scheduler.poll_once()) == ["Every15", "PointsExpirySchedule"]
    assert runtime.invoked[0] == ("points_expiry", "Scheduled Event")
