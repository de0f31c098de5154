"""Errors of the KPI reports."""
from __future__ import annotations

from loyalty.kernel.errors import NotFound


class ReconciliationNotFound(NotFound):
    """No reconciliation has run for that day yet."""

    code = "RECONCILIATION_NOT_FOUND"
