"""Handling KPIs kept as they happen: every change that matters (received, an outcome, a reopening, a
rating) adds to small daily counters per store, department and assignee, in the change's own
transaction. The report reads one partition per day of its range, never the items.

A day is a day in China Standard Time (UTC+8), the chains' time; handling time runs from receipt (or
the last reopening) to a final outcome and is kept as a sum and a histogram, so the p90 is the upper
bound of the bucket the 90th percentile falls in.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from loyalty.feedback.domain import FeedbackAction, FeedbackItem, Outcome

STATS_ZONE = timezone(timedelta(hours=8), "UTC+8")
# Upper bounds (hours) of the handling-time histogram; the last bucket is open-ended.
HANDLING_BUCKETS_HOURS = (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336)
DIMENSIONS = ("all", "store", "department", "assignee")
UNASSIGNED = "(unassigned)"
COUNTERS = ("received", "outcomes", "resolved", "cannot_resolve", "in_progress", "first_time", "on_time", "reopened",
            "handled", "handling_seconds", "ratings", "rating_sum", "satisfied")


@dataclass(frozen=True)
class StatDelta:
    """What to add to one day's counters of one dimension value."""

    day: date
    dimension: str
    value: str
    add: dict[str, int]


def stats_day(moment: datetime) -> date:
    return moment.astimezone(STATS_ZONE).date()


def _bucket(seconds: float) -> str:
    hours = seconds / 3600
    for bound in HANDLING_BUCKETS_HOURS:
        if hours <= bound:
            return f"h_le_{bound}"
    return f"h_gt_{HANDLING_BUCKETS_HOURS[-1]}"


def _spread(item: FeedbackItem, day: date, add: dict[str, int]) -> list[StatDelta]:
    add = {k: v for k, v in add.items() if v}
    if not add:
        return []
    return [StatDelta(day, "all", "*", add), StatDelta(day, "store", item.store_id, add),
            StatDelta(day, "department", item.department, add),
            StatDelta(day, "assignee", item.assignee or UNASSIGNED, add)]


def received_deltas(item: FeedbackItem) -> list[StatDelta]:
    return _spread(item, stats_day(item.received_at), {"received": 1})


def change_deltas(before: FeedbackItem, after: FeedbackItem, action: FeedbackAction, now: datetime) -> list[StatDelta]:
    """The counters a workflow change moves (nothing for acknowledge and assign)."""
    today = stats_day(now)
    if action == FeedbackAction.RESOLVED:
        if after.outcome == Outcome.IN_PROGRESS:
            return _spread(after, today, {"in_progress": 1})
        started = before.reopened_at or before.received_at
        seconds = max(0, int((now - started).total_seconds()))
        add = {"outcomes": 1, "resolved": int(after.outcome == Outcome.RESOLVED),
               "cannot_resolve": int(after.outcome == Outcome.CANNOT_RESOLVE),
               "first_time": int(after.outcome == Outcome.RESOLVED and before.first_resolved_at is None
                                 and before.reopen_count == 0),
               "on_time": int(bool(after.resolved_on_time)), "handled": 1, "handling_seconds": seconds,
               _bucket(seconds): 1}
        return _spread(after, today, add)
    if action == FeedbackAction.REOPENED:
        deltas = _spread(after, today, {"reopened": 1})
        if before.reopen_count == 0 and before.outcome == Outcome.RESOLVED and before.first_resolved_at is not None:
            # Resolved the first time, until now: taken back on the day it was counted.
            deltas += _spread(before, stats_day(before.first_resolved_at), {"first_time": -1})
        return deltas
    if action == FeedbackAction.RATED:
        old = before.satisfaction
        add = {"ratings": int(old is None), "rating_sum": after.satisfaction - (old or 0),
               "satisfied": int(after.satisfaction >= 4) - int(old is not None and old >= 4)}
        return _spread(after, today, add)
    return []


@dataclass
class HandlingTally:
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        for name, value in row.items():
            if name in COUNTERS or name.startswith("h_"):
                self.counters[name] = self.counters.get(name, 0) + int(value)

    def figures(self) -> dict:
        c = self.counters.get

        def pct(part: int, whole: int) -> float | None:
            return round(100 * part / whole, 1) if whole else None

        handled = c("handled", 0)
        return {
            "received": c("received", 0),
            "outcomes": c("outcomes", 0),
            "resolved": c("resolved", 0),
            "cannot_resolve": c("cannot_resolve", 0),
            "in_progress_answers": c("in_progress", 0),
            "reopened": c("reopened", 0),
            "resolution_rate_pct": pct(c("resolved", 0), c("outcomes", 0)),
            "first_time_resolution_pct": pct(c("first_time", 0), c("outcomes", 0)),
            "on_time_pct": pct(c("on_time", 0), c("outcomes", 0)),
            "reopen_rate_pct": pct(c("reopened", 0), c("outcomes", 0)),
            "average_handling_hours": round(c("handling_seconds", 0) / handled / 3600, 2) if handled else None,
            "p90_handling_hours": self._p90(handled),
            "ratings": c("ratings", 0),
            "average_satisfaction": round(c("rating_sum", 0) / c("ratings"), 2) if c("ratings") else None,
            "satisfied_pct": pct(c("satisfied", 0), c("ratings", 0)),
        }

    def _p90(self, handled: int) -> float | None:
        """The upper bound of the histogram bucket holding the 90th percentile (None past the last bound)."""
        if not handled:
            return None
        needed, seen = 0.9 * handled, 0
        for bound in HANDLING_BUCKETS_HOURS:
            seen += self.counters.get(f"h_le_{bound}", 0)
            if seen >= needed:
                return float(bound)
        return None


def handling_kpis(rows: list[dict]) -> dict:
    """rows: stored counters, each with `dimension` and `value`. Totals and one entry per value."""
    tallies: dict[tuple[str, str], HandlingTally] = {}
    for row in rows:
        tallies.setdefault((row["dimension"], row["value"]), HandlingTally()).add(row)
    result: dict = {"totals": tallies.get(("all", "*"), HandlingTally()).figures()}
    for dimension in DIMENSIONS[1:]:
        result[f"by_{dimension}"] = [{dimension: value, **tally.figures()}
                                     for (dim, value), tally in sorted(tallies.items()) if dim == dimension]
    return result


CSV_COLUMNS = ("dimension", "value", "received", "outcomes", "resolved", "cannot_resolve", "in_progress_answers",
               "reopened", "resolution_rate_pct", "first_time_resolution_pct", "on_time_pct", "reopen_rate_pct",
               "average_handling_hours", "p90_handling_hours", "ratings", "average_satisfaction", "satisfied_pct")


def handling_csv(kpis: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = [("all", "*", kpis["totals"])]
    for dimension in DIMENSIONS[1:]:
        rows += [(dimension, entry[dimension], entry) for entry in kpis[f"by_{dimension}"]]
    for dimension, value, figures in rows:
        writer.writerow([dimension, _cell(value), *("" if figures[c] is None else figures[c] for c in CSV_COLUMNS[2:])])
    return out.getvalue()


def merged(deltas: list[StatDelta]) -> list[StatDelta]:
    """One delta per counter item: a transaction may touch an item only once."""
    by_key: dict[tuple, dict[str, int]] = {}
    for delta in deltas:
        counters = by_key.setdefault((delta.day, delta.dimension, delta.value), {})
        for name, value in delta.add.items():
            counters[name] = counters.get(name, 0) + value
    return [StatDelta(day, dim, value, {k: v for k, v in add.items() if v})
            for (day, dim, value), add in by_key.items() if any(add.values())]


def _cell(value) -> str:
    """A staff name starting like a formula is written as text in a spreadsheet."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
