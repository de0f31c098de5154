"""What clients send to the insight API."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from loyalty.kernel.models import StrictModel


class TagDecision(StrictModel):
    """Staff decide a tag by hand: `add` or `remove` wins over the rules until `clear` hands it back."""

    tag: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
    action: Literal["add", "remove", "clear"]
    reason: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="Why (kept in the tag history; no personal data)")


class ChurnRiskUpdate(StrictModel):
    """Staff working the list: what was done."""

    store_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-*]+$")] = Field(
        description="The list the member is on (their home store)")
    status: Literal["contacted", "voucher_sent", "won_back", "dismissed"]
    note: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Internal; no personal data (it is not exported and is removed on erasure)")
