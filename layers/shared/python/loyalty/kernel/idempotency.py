"""Idempotency claims: a request's business key and the hash of its payload, stored in the same
transaction as the change it guards, so a retry finds either nothing or the complete original result."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from loyalty.kernel.errors import IdempotencyKeyReused


def payload_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def canonical(value: Any) -> Any:
    """What a request means rather than how it was spelled: a retry that writes 10:00+08:00 as 02:00Z
    or 100.00 as 100.0 is the same request."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    return value


class IdempotencyClaim(BaseModel):
    model_config = ConfigDict(defer_build=True)

    scope: str  # e.g. "enroll:<client_id>", "purchase:<store_id>"
    key: str
    request_hash: str
    response: dict[str, Any]
    expires_at: int | None = None  # epoch seconds; None keeps the claim for good
    conflict_field: str = "Idempotency-Key"  # what a reuse is blamed on: the header, or the business id's field


class IdempotentReplay(Exception):
    """The claim already exists for the same request: answer with the original response."""

    def __init__(self, response: dict[str, Any]):
        super().__init__("idempotent replay")
        self.response = response


def replay_or_conflict(stored_hash: str, stored_response: dict[str, Any], claim: IdempotencyClaim) -> IdempotentReplay:
    if stored_hash != claim.request_hash:
        raise IdempotencyKeyReused(
            "this idempotency key was already used with a different request", field=claim.conflict_field
        )
    return IdempotentReplay(stored_response)
