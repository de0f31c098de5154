"""A member's behaviour profile, kept from the bus's events, and what it says about them on a day.

The profile never grows with the member's history: money figures live in monthly buckets (the last 13
months), purchase days in a list of the last 60 purchases (so counts over 30, 90 and 180 days are exact
for anyone buying less than about twice a week; beyond that the oldest fall off), category, channel and
store mixes keep their largest entries only. Spend in a window is the calendar months it touches (the
30-day figure is this month and last; 90 days the last three months; 365 days twelve), counted on the
month of the purchase and net of the refunds of returns.

Lifecycle (defaults, `LifecyclePolicy`): new = enrolled under 90 days, or fewer than 2 purchases;
churned = no purchase for 180 days; declining = purchases in the last 90 days at most half those of the
90 before (and at least 2 before); won back = a purchase after being churned or declining, for 90 days;
mature = at least 6 purchases in the last 365 days; growing = the rest. A churn risk is raised once per
episode when a member turns declining or churned, or goes silent for longer than 3 times their own
usual interval (at least 30 days); a purchase ends the episode."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

MONTHS_KEPT = 13
RECENT_PURCHASES_KEPT = 60
MIX_KEPT = 12
STAGES = ("new", "growing", "mature", "declining", "churned", "won_back")


class MonthFigures(BaseModel):
    model_config = ConfigDict(extra="ignore")

    orders: int = 0
    spend: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)  # before refunds: the base of the shares
    discounted: Decimal = Decimal(0)
    new_product: Decimal = Decimal(0)


class ChurnRisk(BaseModel):
    raised_on: date
    reasons: list[str]


class Profile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    member_id: str
    enrolled_on: date | None = None
    home_store: str | None = None
    enrollment_channel: str | None = None
    marketing_consent: bool = False
    tier: str = "base"
    first_purchase_on: date | None = None
    last_purchase_on: date | None = None
    last_interaction_on: date | None = None
    orders_total: int = 0
    months: dict[str, MonthFigures] = Field(default_factory=dict)
    recent: list[date] = Field(default_factory=list)  # purchase days, oldest first
    categories: dict[str, Decimal] = Field(default_factory=dict)
    channels: dict[str, int] = Field(default_factory=dict)
    stores: dict[str, int] = Field(default_factory=dict)
    stage: str = "new"
    stage_since: date | None = None
    tags: list[str] = Field(default_factory=list)
    churn_risk: ChurnRisk | None = None
    next_check_on: date | None = None  # as the last assessment set it (the daily check's index day)
    marketing_actions: list[date] = Field(default_factory=list)  # win-back vouchers sent (the last 10)
    manual: dict[str, str] = Field(default_factory=dict)  # tag -> "add" or "remove": staff's decision, wins over rules


class LifecyclePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    new_days: int = 90
    new_below_purchases: int = 2
    churned_after_days: int = 180
    declining_ratio: Decimal = Decimal("0.5")
    declining_min_before: int = 2
    won_back_days: int = 90
    mature_purchases_365d: int = 6
    silent_interval_factor: int = 3
    silent_min_days: int = 30
    marketing_actions_per_30_days: int = 2
    inactivity_erasure_days: int = 0  # the chain's retention policy; 0: off


def inactive_for(profile: Profile, today: date) -> int | None:
    """Days since the member last did anything (or enrolled)."""
    last = profile.last_interaction_on or profile.enrolled_on
    return (today - last).days if last else None


def may_market(profile: Profile, today: date, policy: LifecyclePolicy) -> bool:
    """A marketing action (a win-back voucher) only with the member's marketing consent, and at most
    `marketing_actions_per_30_days` in any 30 days."""
    recent = [d for d in profile.marketing_actions if today - timedelta(days=30) < d <= today]
    return profile.marketing_consent and len(recent) < policy.marketing_actions_per_30_days


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months_back(day: date, n: int) -> str:
    index = day.year * 12 + day.month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _day(value: Any, zone: ZoneInfo) -> date:
    return datetime.fromisoformat(str(value)).astimezone(zone).date()


def _bounded(mix: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))[:MIX_KEPT])


def _touch(profile: Profile, day: date) -> None:
    if profile.last_interaction_on is None or day > profile.last_interaction_on:
        profile.last_interaction_on = day


def apply(profile: Profile, detail_type: str, detail: Mapping[str, Any], zone: ZoneInfo) -> Profile:
    """The profile after one event (a copy); event types that say nothing of the member leave it as it was.
    Deterministic: the adapter applies each event once (by its id)."""
    p = profile.model_copy(deep=True)
    if detail_type == "MemberEnrolled.v1":
        p.enrolled_on = _day(detail["occurred_at"], zone)
        p.home_store, p.enrollment_channel = detail.get("store_id"), detail.get("channel")
        p.marketing_consent = bool(detail.get("marketing_opt_in"))
        _touch(p, p.enrolled_on)
    elif detail_type == "MemberProfileChanged.v1":
        consents = detail.get("consents") or {}
        if "marketing" in consents:
            p.marketing_consent = bool(consents["marketing"])
    elif detail_type == "PurchaseRecorded.v1":
        day = _day(detail["purchased_at"], zone)
        bucket = p.months.setdefault(_month(day), MonthFigures())
        total = Decimal(str(detail["total"]))
        bucket.orders += 1
        bucket.spend += total
        bucket.gross += total
        bucket.discounted += Decimal(str(detail.get("discounted_total", 0)))
        bucket.new_product += Decimal(str(detail.get("new_product_total", 0)))
        p.orders_total += 1
        p.recent = sorted([*p.recent, day])[-RECENT_PURCHASES_KEPT:]
        p.first_purchase_on = min(filter(None, [p.first_purchase_on, day]))
        p.last_purchase_on = max(filter(None, [p.last_purchase_on, day]))
        for category, amount in (detail.get("categories") or {}).items():
            p.categories[category] = p.categories.get(category, Decimal(0)) + Decimal(str(amount))
        p.categories = _bounded(p.categories)
        if detail.get("channel"):
            p.channels = _bounded({**p.channels, detail["channel"]: p.channels.get(detail["channel"], 0) + 1})
        if detail.get("store_id"):
            p.stores = _bounded({**p.stores, detail["store_id"]: p.stores.get(detail["store_id"], 0) + 1})
        _touch(p, day)
    elif detail_type == "PointsReturned.v1":
        refund = Decimal(str(detail.get("refund_total") or 0))
        bought = _day(detail.get("purchased_at") or detail["occurred_at"], zone)
        if refund and _month(bought) in p.months:
            p.months[_month(bought)].spend -= refund
        for category, amount in (detail.get("categories") or {}).items():
            if category in p.categories:
                p.categories[category] -= Decimal(str(amount))
        _touch(p, _day(detail["occurred_at"], zone))
    elif detail_type in ("PointsEarned.v1", "FeedbackReceived.v1", "RewardRedeemed.v1"):
        if detail_type != "PointsEarned.v1" or detail.get("kind") == "activity":
            _touch(p, _day(detail["occurred_at"], zone))
    elif detail_type == "TierChanged.v1":
        p.tier = detail["to_tier"]
    else:
        return profile
    return p


def figures(p: Profile, today: date) -> dict[str, Any]:
    """The figures rules and the API see, as of `today`."""
    def purchases(since_days: int, until_days: int = 0) -> int:
        low, high = today - timedelta(days=since_days), today - timedelta(days=until_days)
        return sum(1 for d in p.recent if low < d <= high)

    def spend(months: int) -> Decimal:
        return sum((p.months[m].spend for m in (_months_back(today, n) for n in range(months)) if m in p.months),
                   Decimal(0))

    kept = [p.months[m] for m in (_months_back(today, n) for n in range(12)) if m in p.months]
    gross = sum((b.gross for b in kept), Decimal(0))
    orders_365 = sum(b.orders for b in kept)
    intervals = [(b - a).days for a, b in zip(p.recent, p.recent[1:])]
    purchases_90d = purchases(90)
    return {
        "spend_30d": spend(2), "spend_90d": spend(3), "spend_365d": spend(12),
        "purchases_30d": purchases(30), "purchases_90d": purchases_90d, "purchases_prev_90d": purchases(180, 90),
        "purchases_365d": orders_365, "orders_total": p.orders_total,
        "average_ticket": (spend(12) / orders_365).quantize(Decimal("0.01")) if orders_365 else None,
        "purchase_interval_days": (Decimal(sum(intervals)) / len(intervals)).quantize(Decimal("0.1")) if intervals else None,
        "discount_share": (sum((b.discounted for b in kept), Decimal(0)) / gross).quantize(Decimal("0.0001")) if gross else None,
        "new_product_share": (sum((b.new_product for b in kept), Decimal(0)) / gross).quantize(Decimal("0.0001")) if gross else None,
        "days_since_last_purchase": (today - p.last_purchase_on).days if p.last_purchase_on else None,
        "days_since_enrollment": (today - p.enrolled_on).days if p.enrolled_on else None,
        "days_since_last_interaction": (today - p.last_interaction_on).days if p.last_interaction_on else None,
        "frequency": "high" if purchases_90d >= 12 else "mid" if purchases_90d >= 3 else "low" if purchases_90d >= 1 else None,
        "top_category": max(p.categories, key=lambda c: (p.categories[c], c)) if p.categories else None,
        "stage": p.stage, "tier": p.tier, "home_store": p.home_store, "enrollment_channel": p.enrollment_channel,
        "marketing_consent": p.marketing_consent,
    }


class Assessment(BaseModel):
    stage: str
    tags: list[str]
    churn_risk: ChurnRisk | None
    risk_raised: bool  # a new churn-risk episode began with this assessment
    next_check_on: date | None  # the first later day time alone may change the stage or raise a risk


def _stage(p: Profile, f: dict[str, Any], today: date, policy: LifecyclePolicy) -> str:
    since_purchase = f["days_since_last_purchase"]
    since_enrollment = f["days_since_enrollment"]
    if since_purchase is None:
        recently = since_enrollment is None or since_enrollment < policy.churned_after_days
        return "new" if recently else "churned"
    if since_purchase >= policy.churned_after_days:
        return "churned"
    if p.stage in ("churned", "declining") and since_purchase == 0 and p.last_purchase_on == today:
        return "won_back"
    if p.stage == "won_back" and p.stage_since and (today - p.stage_since).days < policy.won_back_days:
        return "won_back"
    if (since_enrollment is not None and since_enrollment < policy.new_days) or p.orders_total < policy.new_below_purchases:
        return "new"
    before, now = f["purchases_prev_90d"], f["purchases_90d"]
    if before >= policy.declining_min_before and now <= before * policy.declining_ratio:
        return "declining"
    return "mature" if f["purchases_365d"] >= policy.mature_purchases_365d else "growing"


def _silent_after(f: dict[str, Any], policy: LifecyclePolicy) -> int | None:
    interval = f["purchase_interval_days"]
    if interval is None:
        return None
    return max(policy.silent_min_days, int(interval * policy.silent_interval_factor))


def assess(p: Profile, today: date, rules, policy: LifecyclePolicy = LifecyclePolicy()) -> Assessment:
    """Stage, tags and churn risk as of `today`, and when to look again: the day silence becomes a risk,
    the day of churn, the end of being new or won back. (The declining test is made at every purchase;
    a member whose purchases stop is caught by the silence first, so purchases leaving the 90-day windows
    need no check of their own: an active member is not read every week.)"""
    from loyalty.insight.rules import rule_tags

    f = figures(p, today)
    stage = _stage(p, f, today, policy)
    reasons = []
    if stage in ("declining", "churned") and p.stage != stage:
        reasons.append("purchases_halved" if stage == "declining" else "no_purchase_for_180_days")
    silent = _silent_after(f, policy)
    if silent is not None and f["days_since_last_purchase"] is not None and f["days_since_last_purchase"] > silent:
        reasons.append("silent_beyond_usual_interval")
    risk, raised = p.churn_risk, False
    if p.last_purchase_on is not None and risk is not None and p.last_purchase_on > risk.raised_on:
        risk = None  # they came back: the episode is over
    if reasons and risk is None:
        risk, raised = ChurnRisk(raised_on=today, reasons=sorted(set(reasons))), True
    facts = {**f, "stage": stage}
    candidates = []
    if p.last_purchase_on is not None:
        candidates.append(p.last_purchase_on + timedelta(days=policy.churned_after_days))
        if silent is not None:
            candidates.append(p.last_purchase_on + timedelta(days=silent + 1))
    elif p.enrolled_on is not None:
        candidates.append(p.enrolled_on + timedelta(days=policy.churned_after_days))
    if p.enrolled_on is not None:
        candidates.append(p.enrolled_on + timedelta(days=policy.new_days))
    since = p.stage_since if stage == p.stage else today
    if stage == "won_back" and since is not None:
        candidates.append(since + timedelta(days=policy.won_back_days))
    last_seen = p.last_interaction_on or p.enrolled_on
    if policy.inactivity_erasure_days and last_seen is not None:
        candidates.append(last_seen + timedelta(days=policy.inactivity_erasure_days))
    upcoming = [d for d in candidates if d > today]
    tags = {t for t in rule_tags(rules, facts) if p.manual.get(t) != "remove"}
    tags |= {t for t, decision in p.manual.items() if decision == "add"}
    return Assessment(stage=stage, tags=sorted(tags), churn_risk=risk, risk_raised=raised,
                      next_check_on=min(upcoming) if upcoming else None)
