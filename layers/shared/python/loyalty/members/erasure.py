"""Erasure: the member's personal data removed for good, the books kept.

Every capability that keeps something of the member ends it first through its `MemberDataHolder` port
(vouchers revoked, points held at a till released, feedback text removed); then one transaction
replaces the profile by a tombstone without personal data, releases the phone, email, card and
referral-code claims (the phone can enroll again, as a new member), marks the erasure record done and
writes `MemberErased.v1`. Ledger entries, purchases, redemptions and settlement figures stay under the
member id, so balances, reports and settlements do not move. Idempotent and resumable: the record says
where it is, and every step can run again."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.errors import MemberErased, MemberNotFound
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.models import Result, StrictModel
from loyalty.kernel.ports import Clock, MemberDataHolder
from loyalty.members.events import MemberErased as MemberErasedEvent
from loyalty.members.ports import MemberRepository

ERASURE_LOOKBACK_DAYS = 7  # the daily job also looks this far back for erasures a failed run left behind


class ErasureReason(str, Enum):
    MEMBER_REQUEST = "member_request"  # the member asked (PIPL art. 47, GDPR art. 17)
    CONSENT_WITHDRAWN = "consent_withdrawn"  # data-processing consent withdrawn, after the grace period
    INACTIVITY_POLICY = "inactivity_policy"  # the chain's retention policy


class ErasureRequest(StrictModel):
    reason: Literal[ErasureReason.MEMBER_REQUEST, ErasureReason.INACTIVITY_POLICY] = Field(
        description="Why: member_request or inactivity_policy (consent withdrawal schedules its own)")


class ErasureRecord(BaseModel):
    """Who asked, when and why; never personal data. Kept for good, as proof of the erasure."""

    model_config = ConfigDict(defer_build=True)

    member_id: str
    reason: ErasureReason
    requested_by: str
    requested_at: datetime
    status: Literal["scheduled", "in_progress", "done"]
    erase_after: datetime | None = Field(default=None, description="Scheduled: erased on the first daily run after")
    completed_at: datetime | None = None
    ended: dict[str, int] = Field(default_factory=dict,
                                  description="What each capability ended: vouchers, points_payments...")
    version: int = 1


class ErasureView(Result):
    member_id: str
    reason: ErasureReason
    requested_by: str
    requested_at: datetime
    status: Literal["scheduled", "in_progress", "done"]
    erase_after: datetime | None = None
    completed_at: datetime | None = None
    ended: dict[str, int]


def erasure_view(record: ErasureRecord) -> ErasureView:
    return ErasureView.model_validate(record.model_dump(exclude={"version"}))


class MemberErasure:
    def __init__(self, members: MemberRepository, holders: Sequence[MemberDataHolder], clock: Clock):
        self._members = members
        self._holders = holders
        self._clock = clock

    def request(self, member_id: str, request: ErasureRequest, client: ClientIdentity) -> tuple[ErasureView, bool]:
        """Erase now. Asking again answers the record (created False), whatever the reason given then."""
        client.require(Scope.MEMBERS_ERASE)
        record = self._members.get_erasure(member_id)
        if record is not None and record.status == "done":
            return erasure_view(record), False
        if record is None:
            if self._members.get_member(member_id) is None:
                raise MemberNotFound(f"member {member_id} does not exist")
            record = ErasureRecord(member_id=member_id, reason=request.reason, requested_by=client.client_id,
                                   requested_at=self._clock.now(), status="in_progress")
            record = self._members.start_erasure(record, None)
        elif record.status == "scheduled":  # asked while a consent withdrawal waits: erase now
            record = self._members.start_erasure(
                record.model_copy(update={"status": "in_progress", "version": record.version + 1}), record)
        return erasure_view(self._complete(record)), True

    def schedule_inactivity_erasure(self, member_id: str) -> bool:
        """kernel.ports.InactivityErasure: a scheduled record the daily job erases at its next run."""
        if self._members.get_erasure(member_id) is not None or self._members.get_member(member_id) is None:
            return False
        now = self._clock.now()
        record = ErasureRecord(member_id=member_id, reason=ErasureReason.INACTIVITY_POLICY,
                               requested_by="inactivity_policy", requested_at=now, status="scheduled", erase_after=now)
        return self._members.start_erasure(record, None) == record

    def get(self, member_id: str, client: ClientIdentity) -> ErasureView:
        client.require(Scope.MEMBERS_ERASE)
        record = self._members.get_erasure(member_id)
        if record is None:
            raise MemberNotFound(f"member {member_id} has no erasure", field="member_id")
        return erasure_view(record)

    def run_due(self, *, should_continue=lambda: True) -> dict:
        """The daily job: erase the members whose consent withdrawal has waited out its grace period."""
        now = self._clock.now()
        erased = failed = 0
        complete = True
        for back in range(ERASURE_LOOKBACK_DAYS, -1, -1):
            for member_id in self._members.due_erasures((now - timedelta(days=back)).date(), now):
                if not should_continue():
                    complete = False
                    break
                record = self._members.get_erasure(member_id)
                if record is None or record.status == "done" or (
                        record.erase_after is not None and record.erase_after > now):
                    continue  # cancelled, done, or not yet due
                try:
                    if record.status == "scheduled":
                        record = self._members.start_erasure(
                            record.model_copy(update={"status": "in_progress", "version": record.version + 1}),
                            record)
                    self._complete(record)
                    erased += 1
                except Exception:  # noqa: BLE001 - one member's failure must not stop the others; retried tomorrow
                    failed += 1
            if not complete:
                break
        return {"erased": erased, "failed": failed, "complete": complete}

    def _complete(self, record: ErasureRecord) -> ErasureRecord:
        """Every step again from the start: each is idempotent, so a run that stopped halfway resumes."""
        ended = dict(record.ended)
        for holder in self._holders:
            ended[holder.holds] = ended.get(holder.holds, 0) + holder.forget_member(record.member_id)
        now = self._clock.now()
        done = record.model_copy(update={"status": "done", "completed_at": now, "ended": ended,
                                         "version": record.version + 1})
        event = MemberErasedEvent(occurred_at=now, member_id=record.member_id, reason=record.reason.value,
                                  requested_by=record.requested_by)
        try:
            self._members.erase_member(record.member_id, record, done, [event])
        except MemberErased:
            return self._members.get_erasure(record.member_id) or done
        return done
