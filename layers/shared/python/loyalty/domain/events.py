"""Versioned domain events published on the platform's bus. Details carry ids, never personal data."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from loyalty.domain.ids import new_id

EVENT_SOURCE = "loyalty"


class DomainEvent(BaseModel):
    event_id: str = Field(default_factory=lambda: new_id("evt"),
                          description="Unique and time-ordered; consumers drop a redelivered event by it")
    detail_type: str = Field(description="Event name with its version, e.g. MemberEnrolled.v1")
    source: str = EVENT_SOURCE
    occurred_at: datetime
    detail: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "occurred_at": self.occurred_at.isoformat(), **self.detail}
