"""Insight use cases: keep each member's profile from the bus's events (once per event), re-assess the
members time alone may change (the daily check), show a member's insight, work the churn-risk list."""
from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from typing import Any, Callable, Mapping

from loyalty.insight.errors import InsightNotFound
from loyalty.insight.events import MemberChurnRisk, MemberLifecycleChanged
from loyalty.insight.ports import InsightRepository, ProgramZone
from loyalty.insight.profile import LifecyclePolicy, Profile, apply, assess, figures, inactive_for, may_market
from loyalty.insight.requests import ChurnRiskUpdate, TagDecision
from loyalty.insight.results import (
    ChurnRiskEntry, ChurnRiskPage, CheckRun, InsightFigures, InsightView, TagDecisionResult, TagHistoryItem,
)
from loyalty.insight.rules import TagRuleSet, TagRuleSetInput, default_rule_set
from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.ports import Clock, InactivityErasure
from loyalty.kernel.vouchers import VoucherGrant, VoucherIssuer

ATTEMPTS = 4  # the member's profile changed under us: read again and retry
CHECK_LOOKBACK_DAYS = 3  # a day missed (an outage) is still checked the next days
NO_HOME_STORE = "*"
MARKETING_ACTIONS_KEPT = 10
# The win-back coupon a store hands a member at risk (挽回券): 20 off a basket of 100, for 30 days.
WIN_BACK_TERMS = {"discount": "amount_off", "amount_off": "20.00", "min_spend": "100.00", "valid_days": 30}


class Applied(str, Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class Insight:
    def __init__(self, repo: InsightRepository, rules: ProgramZone, clock: Clock,
                 policy: LifecyclePolicy = LifecyclePolicy(), vouchers: VoucherIssuer | None = None,
                 eraser: InactivityErasure | None = None, tag_rules=None):
        self._repo = repo
        self._rules = rules
        self._clock = clock
        self._policy = policy
        self._vouchers = vouchers
        self._eraser = eraser
        self._tag_rules = tag_rules  # a CachedVersionedDocument of TagRuleSet; None: the built-in rules

    def _rules_in_force(self) -> list:
        return (self._tag_rules.current() if self._tag_rules is not None else default_rule_set()).rules

    def _today(self) -> date:
        return self._clock.now().astimezone(self._rules.current().zone()).date()

    # -- from the bus ------------------------------------------------------------------------------
    def apply_event(self, event_id: str, detail_type: str, detail: Mapping[str, Any]) -> Applied:
        member_id = detail.get("member_id")
        if not member_id:
            return Applied.IGNORED
        if detail_type == "MemberErased.v1":
            self._repo.forget(member_id)
            return Applied.APPLIED
        zone = self._rules.current().zone()
        for attempt in range(ATTEMPTS):
            stored, version = self._repo.load(member_id)
            before = stored or Profile(member_id=member_id)
            after = apply(before, detail_type, detail, zone)
            if after is before:
                return Applied.IGNORED
            try:
                saved, _raised = self._save(after, version, event_id=event_id)
            except ConcurrentUpdate:
                if attempt + 1 == ATTEMPTS:
                    raise
                continue
            return Applied.APPLIED if saved else Applied.DUPLICATE
        raise AssertionError("unreachable")

    def _save(self, profile: Profile, version: int, *, event_id: str | None,
              history: dict[str, Any] | None = None) -> tuple[bool, bool]:
        """Assess as of today, keep the result on the profile, and save it with what changed. Returns (saved,
        a churn risk raised); a check that changes nothing saves nothing."""
        today = self._today()
        found = assess(profile, today, self._rules_in_force(), self._policy)
        events: list = []
        if found.stage != profile.stage:
            events.append(MemberLifecycleChanged(occurred_at=self._clock.now(), member_id=profile.member_id,
                                                 from_stage=profile.stage, to_stage=found.stage, on=today))
        churn_entry = None
        actions = profile.marketing_actions
        if found.risk_raised:
            f = figures(profile, today)
            sent = self._win_back(profile, today)
            if sent:
                actions = [*actions, today][-MARKETING_ACTIONS_KEPT:]
            store = profile.home_store or NO_HOME_STORE
            events.append(MemberChurnRisk(
                occurred_at=self._clock.now(), member_id=profile.member_id, store_id=profile.home_store,
                reasons=found.churn_risk.reasons, days_since_last_purchase=f["days_since_last_purchase"],
                usual_interval_days=None if f["purchase_interval_days"] is None else str(f["purchase_interval_days"]),
                stage=found.stage, win_back_voucher=sent))
            churn_entry = {"member_id": profile.member_id, "store_id": store, "raised_on": today.isoformat(),
                           "reasons": found.churn_risk.reasons, "status": "voucher_sent" if sent else "open",
                           "stage": found.stage}
        updated = profile.model_copy(update={
            "stage": found.stage, "tags": found.tags, "churn_risk": found.churn_risk,
            "next_check_on": found.next_check_on, "marketing_actions": actions,
            "stage_since": today if found.stage != profile.stage or profile.stage_since is None else profile.stage_since})
        if event_id is None and history is None and updated == profile and not events:
            return False, False
        saved = self._repo.save(updated, version=version, next_check_on=found.next_check_on, event_id=event_id,
                                churn_entry=churn_entry, events=events, history=history)
        return saved, saved and found.risk_raised

    def _win_back(self, profile: Profile, today: date) -> bool:
        """The win-back voucher, before the risk is saved: its issue key (member and day) makes a retried or
        redelivered attempt hand out the same voucher, never a second one."""
        if self._vouchers is None or not may_market(profile, today, self._policy):
            return False
        self._vouchers.issue(profile.member_id, VoucherGrant(
            issue_key=f"win-back:{today.isoformat()}", source_kind="win_back", source_id=today.isoformat(),
            title_zh="回归礼券 满100减20", title_en="Welcome back: 20 off 100", terms=WIN_BACK_TERMS))
        return True

    # -- the daily check ---------------------------------------------------------------------------
    def check_due(self, *, should_continue: Callable[[], bool] = lambda: True) -> CheckRun:
        """Re-assess the members whose next check is today (or in the few days before: a missed run), found
        through the index, so the cost is the members due, not all members. A second run the same day
        finds them checked (their next check moved on) and changes nothing."""
        today = self._today()
        days = [today - timedelta(days=n) for n in range(CHECK_LOOKBACK_DAYS, -1, -1)]
        members = changed = raised = failed = erasing = 0
        for day in days:
            for shard in range(self._repo.shards):
                for member_id in self._repo.due_members(day, shard):
                    if not should_continue():
                        return CheckRun(days=days, members=members, changed=changed, risks_raised=raised, failed=failed,
                                           erasures_scheduled=erasing)
                    members += 1
                    try:
                        outcome = self._check(member_id)
                    except ConcurrentUpdate:
                        failed += 1  # an event is being applied: that write re-assesses the member anyway
                        continue
                    changed += outcome[0]
                    raised += outcome[1]
                    erasing += outcome[2]
        return CheckRun(days=days, members=members, changed=changed, risks_raised=raised, failed=failed,
                                           erasures_scheduled=erasing)

    def _check(self, member_id: str) -> tuple[int, int, int]:
        profile, version = self._repo.load(member_id)
        if profile is None:
            return 0, 0, 0
        quiet = inactive_for(profile, self._today())
        if self._eraser and self._policy.inactivity_erasure_days and quiet is not None \
                and quiet >= self._policy.inactivity_erasure_days:
            # The retention policy: the members capability erases them at its next daily run, and its
            # MemberErased.v1 removes this profile.
            return 0, 0, int(self._eraser.schedule_inactivity_erasure(member_id))
        saved, raised = self._save(profile, version, event_id=None)
        return int(saved), int(raised), 0

    # -- the API -----------------------------------------------------------------------------------
    def view(self, member_id: str, client: ClientIdentity) -> InsightView:
        client.require(Scope.INSIGHT_READ)
        profile, _ = self._repo.load(member_id)
        if profile is None:
            raise InsightNotFound(f"no insight on member {member_id} yet")
        today = self._today()
        found = assess(profile, today, self._rules_in_force(), self._policy)
        f = figures(profile, today)
        return InsightView.model_validate({
            "member_id": member_id, "stage": found.stage,
            "stage_since": profile.stage_since if found.stage == profile.stage else today,
            "tags": found.tags, "churn_risk": found.churn_risk.model_dump() if found.churn_risk else None,
            "home_store": profile.home_store, "tier": profile.tier, "first_purchase_on": profile.first_purchase_on,
            "last_purchase_on": profile.last_purchase_on, "last_interaction_on": profile.last_interaction_on,
            "categories": profile.categories, "channels": profile.channels, "stores": profile.stores,
            "figures": InsightFigures.model_validate({k: f[k] for k in InsightFigures.model_fields}),
            "next_check_on": found.next_check_on})

    def tag_rules(self, client: ClientIdentity) -> TagRuleSet:
        client.require(Scope.INSIGHT_MANAGE)
        return self._tag_rules.current() if self._tag_rules is not None else default_rule_set()

    def replace_tag_rules(self, rules: TagRuleSetInput, client: ClientIdentity) -> TagRuleSet:
        """Validated when parsed (each condition in the rule language, one rule per tag); versioned. Members
        are judged on the new rules at their next event or check."""
        client.require(Scope.INSIGHT_MANAGE)
        return self._tag_rules.replace(rules, changed_by=client.client_id, at=self._clock.now())

    def decide_tag(self, member_id: str, decision: TagDecision, client: ClientIdentity) -> TagDecisionResult:
        client.require(Scope.INSIGHT_MANAGE)
        for attempt in range(ATTEMPTS):
            profile, version = self._repo.load(member_id)
            if profile is None:
                raise InsightNotFound(f"no insight on member {member_id} yet")
            manual = dict(profile.manual)
            if decision.action == "clear":
                manual.pop(decision.tag, None)
            else:
                manual[decision.tag] = decision.action
            history = {"tag": decision.tag, "action": decision.action, "reason": decision.reason,
                       "by": client.client_id, "at": self._clock.now().isoformat()}
            try:
                self._save(profile.model_copy(update={"manual": manual}), version, event_id=None, history=history)
            except ConcurrentUpdate:
                if attempt + 1 == ATTEMPTS:
                    raise
                continue
            stored, _ = self._repo.load(member_id)
            return TagDecisionResult(member_id=member_id, tags=stored.tags, manual=stored.manual,
                                     history=[TagHistoryItem.model_validate(h) for h in self._repo.tag_history(member_id)])
        raise AssertionError("unreachable")

    def churn_list(self, store_id: str, client: ClientIdentity, *, status: str | None = None, limit: int = 50,
                   cursor: str | None = None) -> ChurnRiskPage:
        client.require(Scope.INSIGHT_READ)
        client.require_store(store_id)
        items, next_cursor = self._repo.churn_page(store_id, status, limit, cursor)
        return ChurnRiskPage(store_id=store_id, items=[ChurnRiskEntry.model_validate(i) for i in items],
                             next_cursor=next_cursor)

    def work_churn(self, member_id: str, update: ChurnRiskUpdate, client: ClientIdentity) -> ChurnRiskEntry:
        client.require(Scope.INSIGHT_MANAGE)
        client.require_store(update.store_id)
        item = self._repo.update_churn(update.store_id, member_id, update.status, update.note,
                                       self._clock.now().isoformat())
        return ChurnRiskEntry.model_validate(item)
