"""Idempotency claims: a request's business key and the hash of its payload, stored in the same
transaction as the change it guards, so a retry finds either nothing or the complete original result."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from loyalty.domain.errors import IdempotencyKeyReused


def payload_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyClaim(BaseModel):
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
