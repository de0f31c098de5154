"""A member's standing on the ladder and every rule that moves it.

The standing is kept on the member's points balance (kernel.standing): the tier held, since when, the
rolling-window figures as monthly buckets (only the window's months, so it never grows), the last visit
day, and the day the review next has work for the member. Upgrades happen as soon as the figures meet
a higher tier; downgrades only at a review."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.standing import QualifyingFact
from loyalty.tiers.ladder import Ladder, ReviewPolicy


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(day: date, n: int) -> str:
    index = day.year * 12 + day.month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class MonthFigures(BaseModel):
    model_config = ConfigDict(defer_build=True)

    spend: Decimal = Decimal(0)
    visits: int = 0
    activity: int = 0


class Figures(BaseModel):
    """The window's totals, as a criterion reads them."""

    model_config = ConfigDict(defer_build=True)

    spend: Decimal = Decimal(0)
    visits: int = 0
    activity: int = 0

    def value(self, name: str) -> Decimal:
        return Decimal(getattr(self, name))


class Lock(BaseModel):
    model_config = ConfigDict(defer_build=True)

    until: date
    reason: str


class Upgrade(BaseModel):
    """The purchase that last upgraded the member, so returning it can undo the upgrade."""

    model_config = ConfigDict(defer_build=True)

    order: str
    previous: str


class Standing(BaseModel):
    model_config = ConfigDict(defer_build=True)

    tier: str
    since: date | None = None
    months: dict[str, MonthFigures] = Field(default_factory=dict)
    last_visit: date | None = None
    review_on: date | None = Field(default=None, description="None while the lowest tier is held")
    warned_for: date | None = Field(default=None, description="The review date whose warning went out")
    grace_until: date | None = None
    lock: Lock | None = None
    upgrade: Upgrade | None = None
    evaluated: str | None = Field(default=None, description="The tier the ladder gave at the last evaluation")
    check_on: date | None = Field(default=None, description="The day the review job next has work for the "
                                                            "member (indexed); None: no work")

    @classmethod
    def parse(cls, stored: dict | None, fallback_tier: str) -> "Standing":
        return cls.model_validate(stored) if stored else cls(tier=fallback_tier)

    def body(self, ladder: Ladder, today: date) -> dict:
        """What is stored, with the day the review job next has work (never before tomorrow: today's run
        may be over; a warning due already goes out tomorrow)."""
        check = self.next_check(ladder)
        self.check_on = max(check, today + timedelta(days=1)) if check is not None else None
        return self.model_dump(mode="json", exclude_none=True)

    def next_check(self, ladder: Ladder) -> date | None:
        """The day the review job next has work for the member: the warning day of the coming review (when
        not yet sent), else the review day; a lock's end when that is sooner."""
        days = []
        if self.review_on is not None:
            warn = self.review_on - timedelta(days=ladder.warning_days)
            days.append(warn if ladder.warning_days > 0 and self.warned_for != self.review_on else self.review_on)
        if self.lock is not None:
            days.append(self.lock.until + timedelta(days=1))
        return min(days, default=None)


@dataclass(frozen=True)
class TierMove:
    before: str
    after: str
    reason: str  # purchase, return, activity, review, lock_expiry, manual
    reference_id: str | None = None

    @property
    def direction(self) -> str:
        return "up" if self.up else "down"

    up: bool = True


def window_figures(ladder: Ladder, standing: Standing, day: date) -> Figures:
    oldest = months_back(day, ladder.window_months - 1)
    newest = month_of(day)
    inside = [m for month, m in standing.months.items() if oldest <= month <= newest]
    return Figures(spend=sum((m.spend for m in inside), Decimal(0)), visits=sum(m.visits for m in inside),
                   activity=sum(m.activity for m in inside))


def meets(ladder: Ladder, code: str, figures: Figures, day: date) -> bool:
    criteria = ladder.tier(code).criteria
    if criteria is None:
        return True
    factor = ladder.threshold_factor(day)
    held = [figures.value(name) >= threshold * factor for name, threshold in criteria.thresholds().items()]
    return all(held) if criteria.mode == "all" else any(held)


def qualifying_tier(ladder: Ladder, figures: Figures, day: date) -> str:
    """The highest tier whose criteria the figures meet."""
    best = ladder.lowest
    for tier in ladder.tiers:
        if meets(ladder, tier.code, figures, day):
            best = tier.code
    return best


def progress(ladder: Ladder, standing: Standing, day: date) -> dict | None:
    """What the member still needs for the next tier, per criterion; None at the top."""
    level = ladder.level(standing.tier)
    if level + 1 >= len(ladder.tiers):
        return None
    upper = ladder.tiers[level + 1]
    figures = window_figures(ladder, standing, day)
    factor = ladder.threshold_factor(day)
    criteria = []
    for name, threshold in upper.criteria.thresholds().items():
        needed = threshold * factor
        have = figures.value(name)
        criteria.append({"criterion": name, "required": _text(needed), "current": _text(have),
                         "missing": _text(max(needed - have, Decimal(0))), "met": have >= needed})
    return {"tier": upper.code, "mode": upper.criteria.mode, "criteria": criteria,
            "window_from": months_back(day, ladder.window_months - 1) + "-01", "window_to": day.isoformat()}


def _text(value: Decimal) -> str:
    normal = value.quantize(Decimal("0.01")) if value != value.to_integral_value() else value.quantize(Decimal(1))
    return format(normal, "f")


def next_review(ladder: Ladder, tier: str, day: date) -> date | None:
    if ladder.level(tier) == 0:
        return None
    if ladder.review == ReviewPolicy.MONTHLY:
        return add_months(day.replace(day=1), 1)
    return add_months(day, 12)


def _moved(ladder: Ladder, standing: Standing, tier: str, day: date) -> None:
    standing.tier = tier
    standing.since = day
    standing.review_on = next_review(ladder, tier, day)
    standing.warned_for = None
    standing.grace_until = None


def record(ladder: Ladder, standing: Standing, fact: QualifyingFact, today: date,
           activity_weight: int = 0) -> TierMove | None:
    """Add one operation's figures; upgrade at once when a higher tier is met. A return of the purchase
    that upgraded the member takes the upgrade back as far as the figures no longer carry it."""
    oldest = months_back(today, ladder.window_months - 1)
    standing.months = {m: f for m, f in standing.months.items() if m >= oldest}
    month = month_of(fact.day)
    if month >= oldest:
        figures = standing.months.setdefault(month, MonthFigures())
        figures.spend += fact.spend
        if fact.visit and (standing.last_visit is None or fact.day > standing.last_visit):
            figures.visits += 1
        figures.activity += activity_weight
    if fact.visit and (standing.last_visit is None or fact.day > standing.last_visit):
        standing.last_visit = fact.day
    earned = qualifying_tier(ladder, window_figures(ladder, standing, today), today)
    standing.evaluated = earned
    held = standing.tier
    if ladder.level(earned) > ladder.level(held):
        _moved(ladder, standing, earned, today)
        standing.upgrade = Upgrade(order=fact.reference_id, previous=held) if fact.kind == "purchase" else None
        return TierMove(held, earned, fact.kind, fact.reference_id, True)
    if fact.kind == "return" and standing.upgrade is not None and standing.upgrade.order == fact.reference_id:
        back_to = max(ladder.level(earned), ladder.level(standing.upgrade.previous))
        if back_to < ladder.level(held):
            to = ladder.tiers[back_to].code
            _moved(ladder, standing, to, today)
            standing.upgrade = None
            return TierMove(held, to, "return", fact.reference_id, False)
    return None


@dataclass(frozen=True)
class ReviewOutcome:
    move: TierMove | None = None
    warning: dict | None = None  # what to keep the tier needs, when a warning goes out
    changed: bool = False  # whether the standing changed at all (False: nothing to write)


def _keeps(ladder: Ladder, standing: Standing, day: date) -> bool:
    """Whether the figures keep the held tier at its review."""
    tier = ladder.tier(standing.tier)
    if ladder.review == ReviewPolicy.MONTHLY and tier.monthly_keep_spend is not None:
        last_month = standing.months.get(months_back(day, 1))
        return (last_month.spend if last_month else Decimal(0)) >= tier.monthly_keep_spend
    return meets(ladder, standing.tier, window_figures(ladder, standing, day), day)


def review(ladder: Ladder, standing: Standing, day: date) -> ReviewOutcome:
    """What the review job does for one member on `day`: end a lock, warn ahead of a review, or review.
    Nothing before the member's check day; every step moves the check day past `day`, so running it twice
    on the same day changes nothing the second time."""
    if standing.check_on is not None and day < standing.check_on:
        return ReviewOutcome()
    outcome = _review(ladder, standing, day)
    if outcome.changed:
        check = standing.next_check(ladder)
        standing.check_on = max(check, day + timedelta(days=1)) if check is not None else None
    return outcome


def _review(ladder: Ladder, standing: Standing, day: date) -> ReviewOutcome:
    if standing.lock is not None:
        if day <= standing.lock.until:
            return ReviewOutcome()
        standing.lock = None
        earned = qualifying_tier(ladder, window_figures(ladder, standing, day), day)
        standing.evaluated = earned
        held = standing.tier
        floor = max(ladder.level(held) - ladder.max_drop_levels, 0)
        to = ladder.tiers[max(ladder.level(earned), floor)].code if ladder.level(earned) < ladder.level(held) else earned
        if to != held:
            _moved(ladder, standing, to, day)
            return ReviewOutcome(TierMove(held, to, "lock_expiry", None, ladder.level(to) > ladder.level(held)),
                                 changed=True)
        standing.review_on = next_review(ladder, held, day)
        return ReviewOutcome(changed=True)
    if standing.review_on is None:
        return ReviewOutcome()
    if day < standing.review_on:
        if ladder.warning_days <= 0 or standing.warned_for == standing.review_on \
                or day < standing.review_on - timedelta(days=ladder.warning_days):
            return ReviewOutcome()
        standing.warned_for = standing.review_on
        # Judged on the window as it will be on the review day: months that fall out by then do not count.
        if _keeps(ladder, standing, standing.review_on):
            return ReviewOutcome(changed=True)
        return ReviewOutcome(warning={"tier": standing.tier, "review_on": standing.review_on.isoformat(),
                                      "progress": _keep_needs(ladder, standing, standing.review_on)}, changed=True)
    held = standing.tier
    earned = qualifying_tier(ladder, window_figures(ladder, standing, day), day)
    standing.evaluated = earned
    if ladder.level(earned) > ladder.level(held):
        _moved(ladder, standing, earned, day)
        return ReviewOutcome(TierMove(held, earned, "review", None, True), changed=True)
    if _keeps(ladder, standing, day):
        standing.review_on = next_review(ladder, held, day)
        standing.warned_for = None
        standing.grace_until = None
        return ReviewOutcome(changed=True)
    if ladder.grace_days > 0 and standing.grace_until is None:
        standing.grace_until = day + timedelta(days=ladder.grace_days)
        standing.review_on = standing.grace_until
        standing.warned_for = standing.review_on  # the grace itself is the warning
        return ReviewOutcome(changed=True)
    floor = max(ladder.level(held) - ladder.max_drop_levels, 0)
    # Below the keep rule the tier goes even if the window's figures would give it (the monthly preset).
    to = ladder.tiers[max(min(ladder.level(earned), ladder.level(held) - 1), floor)].code
    _moved(ladder, standing, to, day)
    standing.upgrade = None
    return ReviewOutcome(TierMove(held, to, "review", None, False), changed=True)


def _keep_needs(ladder: Ladder, standing: Standing, day: date) -> list[dict]:
    tier = ladder.tier(standing.tier)
    if ladder.review == ReviewPolicy.MONTHLY and tier.monthly_keep_spend is not None:
        this_month = standing.months.get(months_back(day, 1))  # the month the review will judge
        have = this_month.spend if this_month else Decimal(0)
        return [{"criterion": "monthly_spend", "required": _text(tier.monthly_keep_spend), "current": _text(have),
                 "missing": _text(max(tier.monthly_keep_spend - have, Decimal(0))),
                 "met": have >= tier.monthly_keep_spend}]
    figures = window_figures(ladder, standing, day)
    factor = ladder.threshold_factor(day)
    return [{"criterion": name, "required": _text(t * factor), "current": _text(figures.value(name)),
             "missing": _text(max(t * factor - figures.value(name), Decimal(0))),
             "met": figures.value(name) >= t * factor}
            for name, t in tier.criteria.thresholds().items()]


def set_by_hand(ladder: Ladder, standing: Standing, tier: str, day: date, *, lock_until: date | None,
                reason: str) -> TierMove | None:
    held = standing.tier
    standing.lock = Lock(until=lock_until, reason=reason) if lock_until else None
    standing.upgrade = None
    if tier != held:
        _moved(ladder, standing, tier, day)
        return TierMove(held, tier, "manual", None, ladder.level(tier) > ladder.level(held))
    return None
