"""Versioned domain events published on the platform's bus. Details carry ids, never personal data."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

EVENT_SOURCE = "loyalty"


class DomainEvent(BaseModel):
    detail_type: str = Field(description="Event name with its version, e.g. MemberEnrolled.v1")
    source: str = EVENT_SOURCE
    occurred_at: datetime
    detail: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        return {"occurred_at": self.occurred_at.isoformat(), **self.detail}
