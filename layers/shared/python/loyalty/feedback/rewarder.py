"""FeedbackRewarder backed by the points ledger: PointsService.earn_activity, activity type "feedback"."""
from __future__ import annotations

from datetime import datetime

from loyalty.feedback.ports import ActivityLedger
from loyalty.kernel.errors import ConcurrentUpdate, DomainError

ACTIVITY_TYPE = "feedback"


class PointsFeedbackRewarder:
    def __init__(self, points_service: ActivityLedger):
        self._points = points_service

    def reward(self, member_id: str, feedback_id: str, store_id: str, occurred_at: datetime) -> str:
        try:
            outcome = self._points.earn_activity(member_id, activity_id=feedback_id, activity_type=ACTIVITY_TYPE,
                                                 occurred_at=occurred_at, store_id=store_id)
        except ConcurrentUpdate:
            raise  # the ledger was busy: the message is retried
        except DomainError as refused:
            # Monthly cap reached, unknown member, no feedback points in the program...: retrying
            # would not change the answer, and the feedback itself is already safe.
            return f"not_rewarded:{refused.code}"
        return "rewarded" if outcome.created else "already_rewarded"
