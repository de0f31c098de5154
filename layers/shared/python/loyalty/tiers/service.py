"""Tiers use cases: tracking figures and upgrades inside points operations (TierTracking, the
kernel.standing.TierTracker the points capability calls), the scheduled review (TierReviews), the ladder
and changes by hand (TierAdmin), what a till or the app shows (TierQueries)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from loyalty.kernel.errors import ConcurrentUpdate, MemberNotFound
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import BirthdayBook, BonusPoints, Clock
from loyalty.kernel.standing import HeldTier, QualifyingFact, StandingChange, StandingLedger, StandingUpdate
from loyalty.kernel.vouchers import VoucherGrant, VoucherIssuer
from loyalty.tiers.domain import Standing, TierMove, progress, record, review, set_by_hand, window_figures
from loyalty.kernel.errors import InvalidInput
from loyalty.tiers.errors import NoMonthlyVoucher, NotBirthdayMonth, UnknownTier
from loyalty.tiers.events import CriterionGap, TierChanged, TierDowngradeWarning
from loyalty.tiers.ladder import Ladder, LadderInput
from loyalty.tiers.ports import HistoryEntry, LadderRepository, ReviewIndex, TierRecords
from loyalty.tiers.requests import BirthdayClaimRequest, ManualTierRequest
from loyalty.tiers.results import (
    BenefitsView, BirthdayBenefitResult, HistoryItem, ManualTierResult, MonthlyVoucherResult, ReviewRun, TierChangeNote, TierHistoryPage,
)

REVIEW_LOOKBACK_DAYS = 3  # the first run's range; later runs start after the last day finished


def _fallback(ladder: Ladder, profile_tier: str | None) -> str:
    codes = {t.code for t in ladder.tiers}
    return profile_tier if profile_tier in codes else ladder.lowest


def _standing(ladder: Ladder, stored: dict[str, Any] | None, profile_tier: str | None) -> Standing:
    return Standing.parse(stored, _fallback(ladder, profile_tier))


def _move_writes(records: TierRecords, member_id: str, move: TierMove, now: datetime, *, note: str | None = None,
                 client_id: str | None = None) -> tuple[list, list]:
    entry = HistoryEntry(at=now, from_tier=move.before, to_tier=move.after, direction=move.direction,
                         reason=move.reason, reference_id=move.reference_id, note=note, client_id=client_id)
    event = TierChanged(occurred_at=now, member_id=member_id, from_tier=move.before, to_tier=move.after,
                        direction=move.direction, reason=move.reason, reference_id=move.reference_id)
    return [records.history_write(member_id, entry), records.profile_tier_write(member_id, move.after)], [event]


class TierTracking:
    """kernel.standing.TierTracker: called by the points operations while they draft."""

    def __init__(self, ladders: LadderRepository, records: TierRecords):
        self._ladders = ladders
        self._records = records

    def held(self, standing: dict[str, Any] | None, profile_tier: str | None, now: datetime) -> HeldTier:
        ladder = self._ladders.current()
        tier = _standing(ladder, standing, profile_tier).tier
        return HeldTier(tier=tier, multiplier=ladder.tier(tier).multiplier)

    def record(self, member_id: str, standing: dict[str, Any] | None, profile_tier: str | None,
               fact: QualifyingFact, now: datetime) -> StandingUpdate:
        ladder = self._ladders.current()
        current = _standing(ladder, standing, profile_tier)
        held = HeldTier(tier=current.tier, multiplier=ladder.tier(current.tier).multiplier)
        weight = ladder.activity_weights.get(fact.activity_type, 0) if fact.activity_type else 0
        move = record(ladder, current, fact, fact.today, activity_weight=weight)
        if move is None:
            return StandingUpdate(standing=current.body(ladder, fact.today), held=held)
        writes, events = _move_writes(self._records, member_id, move, now)
        change = TierChangeNote(from_tier=move.before, to_tier=move.after, direction=move.direction,
                                reason=move.reason).body()
        return StandingUpdate(standing=current.body(ladder, fact.today), held=held, change=change, writes=writes, events=events)


class TierReviews:
    """The scheduled review: only members the due index lists for the last few days; each one reviewed
    through one conditioned write, so a second run on the same day finds nothing left to do."""

    def __init__(self, ladders: LadderRepository, standings: StandingLedger, index: ReviewIndex,
                 records: TierRecords, clock: Clock, zone: Callable[[], ZoneInfo]):
        self._ladders = ladders
        self._standings = standings
        self._index = index
        self._records = records
        self._clock = clock
        self._zone = zone

    def today(self) -> date:
        return self._clock.now().astimezone(self._zone()).date()

    def run(self, *, should_continue: Callable[[], bool] = lambda: True,
            lookback_days: int = REVIEW_LOOKBACK_DAYS) -> ReviewRun:
        today = self.today()
        start = self._index.reviewed_through()
        start = start + timedelta(days=1) if start is not None else today - timedelta(days=lookback_days)
        days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
        counts = {"members": 0, "changed": 0, "upgraded": 0, "downgraded": 0, "warned": 0, "unchanged": 0,
                  "failed": 0}
        complete = True
        for day in days:
            for shard in range(self._index.shards):
                for member_id in self._index.due_members(day, shard):
                    if not should_continue():
                        complete = False
                        break
                    counts["members"] += 1
                    try:
                        done = self.review_member(member_id, today)
                    except ConcurrentUpdate:
                        counts["failed"] += 1  # still due: the next run takes it again
                        continue
                    for name in done:
                        counts[name] += 1
                if not complete:
                    break
            if not complete:
                break
        if complete and counts["failed"] == 0 and days:
            # Today is done too: a write after this run's start puts the member on tomorrow or later.
            self._index.set_reviewed_through(today)
        return ReviewRun(days=days, complete=complete, **counts)

    def review_member(self, member_id: str, today: date) -> list[str]:
        """What the review did for one member: names of the counters it moves."""
        ladder = self._ladders.current()
        done: list[str] = []

        def draft(stored: dict[str, Any] | None, profile_tier: str | None, now: datetime) -> StandingChange | None:
            done.clear()
            if stored is None:
                return None
            standing = _standing(ladder, stored, profile_tier)
            outcome = review(ladder, standing, today)
            if not outcome.changed:
                return None
            writes, events = [], []
            if outcome.move is not None:
                writes, events = _move_writes(self._records, member_id, outcome.move, now)
                done.extend(["changed", "upgraded" if outcome.move.up else "downgraded"])
            if outcome.warning is not None:
                events.append(TierDowngradeWarning(
                    occurred_at=now, member_id=member_id, tier=outcome.warning["tier"],
                    review_on=date.fromisoformat(outcome.warning["review_on"]),
                    needs=[CriterionGap(**gap) for gap in outcome.warning["progress"]]))
                done.append("warned")
            return StandingChange(standing=standing.body(ladder, today), writes=writes, events=events)

        if not self._standings.change(member_id, draft):
            return ["unchanged"]
        return done or ["unchanged"]


class TierAdmin:
    def __init__(self, ladders: LadderRepository, standings: StandingLedger, records: TierRecords, clock: Clock,
                 zone: Callable[[], ZoneInfo]):
        self._ladders = ladders
        self._standings = standings
        self._records = records
        self._clock = clock
        self._zone = zone

    def ladder(self, client: ClientIdentity) -> Ladder:
        client.require(Scope.PROGRAM_ADMIN)
        return self._ladders.current()

    def replace_ladder(self, ladder: LadderInput, client: ClientIdentity) -> Ladder:
        client.require(Scope.PROGRAM_ADMIN)
        return self._ladders.replace(ladder, changed_by=client.client_id, at=self._clock.now())

    def set_tier(self, member_id: str, request: ManualTierRequest, client: ClientIdentity) -> ManualTierResult:
        client.require(Scope.PROGRAM_ADMIN)
        ladder = self._ladders.current()
        if request.tier not in {t.code for t in ladder.tiers}:
            raise UnknownTier(f"the ladder has no tier {request.tier}", field="tier")
        today = self._clock.now().astimezone(self._zone()).date()
        if request.lock_until is not None and request.lock_until < today:
            raise InvalidInput("lock_until is in the past", field="lock_until")
        moved: list[bool] = []

        def draft(stored: dict[str, Any] | None, profile_tier: str | None, now: datetime) -> StandingChange:
            moved.clear()
            standing = _standing(ladder, stored, profile_tier)
            move = set_by_hand(ladder, standing, request.tier, today, lock_until=request.lock_until,
                               reason=request.reason)
            writes, events = [], []
            if move is not None:
                writes, events = _move_writes(self._records, member_id, move, now, note=request.reason,
                                              client_id=client.client_id)
                moved.append(True)
            return StandingChange(standing=standing.body(ladder, today), writes=writes, events=events)

        if not self._standings.change(member_id, draft):
            raise MemberNotFound(f"member {member_id} does not exist")
        return ManualTierResult(member_id=member_id, tier=request.tier, changed=bool(moved),
                                locked_until=request.lock_until)


class TierQueries:
    def __init__(self, ladders: LadderRepository, standings: StandingLedger, records: TierRecords, clock: Clock,
                 zone: Callable[[], ZoneInfo], vouchers: VoucherIssuer | None = None,
                 birthdays: BirthdayBook | None = None, bonus: BonusPoints | None = None):
        self._ladders = ladders
        self._standings = standings
        self._records = records
        self._clock = clock
        self._zone = zone
        self._vouchers = vouchers
        self._birthdays = birthdays
        self._bonus = bonus

    def _load(self, member_id: str) -> tuple[Ladder, Standing]:
        exists, stored, profile_tier = self._standings.standing(member_id)
        if not exists:
            raise MemberNotFound(f"member {member_id} does not exist")
        ladder = self._ladders.current()
        return ladder, _standing(ladder, stored, profile_tier)

    def benefits(self, member_id: str, client: ClientIdentity) -> BenefitsView:
        client.require(Scope.POINTS_READ)
        ladder, standing = self._load(member_id)
        today = self._clock.now().astimezone(self._zone()).date()
        tier = ladder.tier(standing.tier)
        figures = window_figures(ladder, standing, today)
        voucher = tier.monthly_voucher
        return BenefitsView.model_validate({
            "member_id": member_id, "tier": tier.code, "tier_name_zh": tier.name_zh, "tier_name_en": tier.name_en,
            "since": standing.since, "multiplier": _num(tier.multiplier), "discount_rate": _num(tier.discount_rate),
            "services": [s.model_dump() for s in tier.services],
            "birthday": tier.birthday.model_dump(mode="json") if tier.birthday else None,
            "monthly_voucher": voucher.model_dump(mode="json") if voucher else None,
            "monthly_voucher_issue_key": _monthly_key(tier.code, today) if voucher else None,
            "figures": {"spend": format(figures.spend.quantize(Decimal("0.01")), "f"), "visits": figures.visits, "activity": figures.activity},
            "next_tier": progress(ladder, standing, today),
            "review_on": standing.review_on, "locked_until": standing.lock.until if standing.lock else None,
            "ladder_version": ladder.version,
        })

    def history(self, member_id: str, client: ClientIdentity, *, limit: int = 20,
                cursor: str | None = None) -> TierHistoryPage:
        client.require(Scope.POINTS_READ)
        entries, next_cursor = self._records.history_page(member_id, limit, cursor)
        if not entries and cursor is None:
            self._load(member_id)  # 404 for an unknown member
        return TierHistoryPage(member_id=member_id, next_cursor=next_cursor,
                               items=[HistoryItem.model_validate(e.model_dump()) for e in entries])

    def claim_monthly_voucher(self, member_id: str, client: ClientIdentity) -> MonthlyVoucherResult:
        """This month's voucher of the member's tier into the wallet, once per member, tier and month."""
        client.require(Scope.POINTS_WRITE)
        ladder, standing = self._load(member_id)
        tier = ladder.tier(standing.tier)
        if tier.monthly_voucher is None or self._vouchers is None:
            raise NoMonthlyVoucher(f"tier {tier.code} gives no monthly voucher", field="member_id")
        today = self._clock.now().astimezone(self._zone()).date()
        v = tier.monthly_voucher
        grant = VoucherGrant(issue_key=_monthly_key(tier.code, today), source_kind="tier", source_id=tier.code,
                             title_zh=v.title_zh, title_en=v.title_en,
                             terms={"discount": "amount_off", "amount_off": str(v.amount_off),
                                    "min_spend": str(v.min_spend), "valid_days": v.valid_days})
        return MonthlyVoucherResult(member_id=member_id, tier=tier.code, code=self._vouchers.issue(member_id, grant))


    def claim_birthday_benefit(self, member_id: str, request: BirthdayClaimRequest,
                               client: ClientIdentity) -> BirthdayBenefitResult:
        """The birthday benefit of the member's tier, in their birthday month (the program's zone), once a
        year: the bonus points into the ledger, the voucher into the wallet. Asking again that year
        answers the same voucher and gives no second bonus."""
        client.require(Scope.POINTS_WRITE)
        client.require_store(request.store_id)
        exists, birthday = self._birthdays.member_birthday(member_id) if self._birthdays else (True, None)
        if not exists:
            raise MemberNotFound(f"member {member_id} does not exist")
        now = self._clock.now()
        today = now.astimezone(self._zone()).date()
        if birthday is None or birthday.month != today.month:
            raise NotBirthdayMonth("the birthday benefit is given in the member's birthday month, which needs a "
                                   "birthday on file", field="member_id")
        ladder, standing = self._load(member_id)
        tier = ladder.tier(standing.tier)
        benefit = tier.birthday
        points = benefit.bonus_points if benefit and self._bonus else 0
        given = bool(points) and self._bonus.grant_birthday_bonus(member_id, points, today.year,
                                                                  request.store_id, now)
        code = None
        if benefit and benefit.voucher and self._vouchers:
            v = benefit.voucher
            code = self._vouchers.issue(member_id, VoucherGrant(
                issue_key=f"birthday:{today.year}", source_kind="birthday", source_id=tier.code,
                title_zh=v.title_zh, title_en=v.title_en,
                terms={"discount": "amount_off", "amount_off": str(v.amount_off), "min_spend": str(v.min_spend),
                       "valid_days": v.valid_days}))
        return BirthdayBenefitResult(member_id=member_id, tier=tier.code, year=today.year, bonus_points=points,
                                     voucher_code=code, bonus_given_now=given)


def _monthly_key(tier: str, today: date) -> str:
    return f"tier-monthly:{tier}:{today.year:04d}-{today.month:02d}"


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")
