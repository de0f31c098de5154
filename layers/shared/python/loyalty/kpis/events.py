"""Events of the KPIs and the reconciliation."""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from loyalty.kernel.events import DomainEvent


class KpiEvent(DomainEvent):
    source: ClassVar[str] = "loyalty.kpis"


class MonthlyDigestReady(KpiEvent):
    """A month's management digest is stored (GET /v1/reports/kpis for the month shows its figures)."""

    month: str = Field(description="YYYY-MM")
    previous_month: str
    orders: int
    spend: str = Field(description="Member spend net of refunds, decimal string")
    new_members: int
    active_members_month: int


class ReconciliationDrift(KpiEvent):
    """The books disagree with themselves: a member's balance with their ledger, or a chain-wide figure
    with its parts. Reported, never fixed silently."""

    day: date
    scope: str = Field(description="member or chain")
    subject: str = Field(description="The member id, or the figure checked")
    check: str
    expected: str
    actual: str
