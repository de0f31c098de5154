"""Errors of member insight."""
from __future__ import annotations

from loyalty.kernel.errors import ConcurrentUpdate, NotFound


class InsightNotFound(NotFound):
    """No event of the member has been seen yet (or the member was erased)."""

    code = "INSIGHT_NOT_FOUND"


class TagRulesVersionConflict(ConcurrentUpdate):
    """The tag rules changed since the version the editor started from."""

    code = "TAG_RULES_VERSION_CONFLICT"


class ChurnRiskNotFound(NotFound):
    code = "CHURN_RISK_NOT_FOUND"
