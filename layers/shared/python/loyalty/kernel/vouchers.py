"""The port through which any capability puts a voucher into a member's wallet (a tier's monthly voucher,
a birthday gift, a win-back coupon). The rewards capability implements it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class VoucherGrant:
    issue_key: str  # the business key that makes the grant happen once, e.g. "tier-monthly:gold:2026-12"
    source_kind: str  # tier, birthday, win_back...
    source_id: str
    title_zh: str
    title_en: str
    terms: dict[str, Any] = field(default_factory=dict)  # rewards.domain.VoucherTerms, validated there


class VoucherIssuer(Protocol):
    def issue(self, member_id: str, grant: VoucherGrant) -> str:
        """Issue the voucher once per (member, issue_key); returns its code (the first one's on a repeat).
        Raises MemberNotFound, InvalidInput for bad terms."""
