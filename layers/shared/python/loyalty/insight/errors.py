"""Errors of member insight."""
from __future__ import annotations

from loyalty.kernel.errors import NotFound


class InsightNotFound(NotFound):
    """No event of the member has been seen yet (or the member was erased)."""

    code = "INSIGHT_NOT_FOUND"


class ChurnRiskNotFound(NotFound):
    code = "CHURN_RISK_NOT_FOUND"
