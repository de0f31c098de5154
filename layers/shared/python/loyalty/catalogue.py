"""The event catalogue: every domain event the platform publishes, by capability. Like wiring, this
module may name every capability; docs/events/ is generated from it (`make events`)."""
from __future__ import annotations

from loyalty.feedback.events import (
    FeedbackEscalated, FeedbackInvited, FeedbackOverdue, FeedbackRated, FeedbackReceived, FeedbackResolved, FeedbackStatusChanged,
)
from loyalty.kernel.events import DomainEvent
from loyalty.insight.events import MemberChurnRisk, MemberLifecycleChanged
from loyalty.kpis.events import MonthlyDigestReady, ReconciliationDrift
from loyalty.members.events import (
    MemberEnrolled, MemberErased, MemberErasureCancelled, MemberErasureScheduled, MemberProfileChanged,
)
from loyalty.points.events import (
    PointsActivated, PointsAdjusted, PointsEarned, PointsExpired, PointsExpiringSoon, PointsPaymentCaptured,
    PointsPaymentReleased, PointsPaymentReserved, PointsReturned, PurchaseRecorded,
)
from loyalty.rewards.events import (
    RedemptionCancelled, RewardRedeemed, VoucherIssued, VoucherReleased, VoucherRevoked, VoucherUsed,
)
from loyalty.tiers.events import TierChanged, TierDowngradeWarning

EVENTS: tuple[type[DomainEvent], ...] = (
    MemberEnrolled, MemberProfileChanged, MemberErasureScheduled, MemberErasureCancelled, MemberErased,
    PointsEarned, PurchaseRecorded, PointsReturned, PointsActivated, PointsAdjusted, PointsExpired, PointsExpiringSoon,
    PointsPaymentReserved, PointsPaymentCaptured, PointsPaymentReleased,
    RewardRedeemed, RedemptionCancelled, VoucherIssued, VoucherUsed, VoucherReleased, VoucherRevoked,
    TierChanged, TierDowngradeWarning,
    FeedbackReceived, FeedbackEscalated, FeedbackResolved, FeedbackOverdue, FeedbackStatusChanged, FeedbackRated,
    FeedbackInvited,
    MemberLifecycleChanged, MemberChurnRisk,
    MonthlyDigestReady, ReconciliationDrift,
)
