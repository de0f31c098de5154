"""Versioned domain events published on the platform's bus. Each event is a class: its source and its
detail type (name and version) come from the class, its fields are the event's detail, and its JSON
Schema is published under docs/events/. Details carry ids and figures, never personal data or free text."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.ids import new_id

ENVELOPE_FIELDS = frozenset({"event_id", "occurred_at"})


class DomainEvent(BaseModel):
    """Base of every domain event; subclasses set `source` (and `version` when it moves on)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    source: ClassVar[str] = "loyalty"
    version: ClassVar[int] = 1
    omit_none: ClassVar[bool] = True  # leave fields that do not apply out of the detail
    description: ClassVar[str] = ""

    event_id: str = Field(default_factory=lambda: new_id("evt"),
                          description="Unique and time-ordered; consumers drop a redelivered event by it")
    occurred_at: datetime

    @classmethod
    def detail_type_name(cls) -> str:
        return f"{cls.__name__}.v{cls.version}"

    @property
    def detail_type(self) -> str:
        return self.detail_type_name()

    @property
    def detail(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS), exclude_none=self.omit_none)

    def envelope(self) -> dict[str, Any]:
        """What EventBridge's `detail` carries: the event's id and time, then its own fields."""
        return {"event_id": self.event_id, "occurred_at": self.occurred_at.isoformat(), **self.detail}

    @classmethod
    def envelope_schema(cls) -> dict[str, Any]:
        """The JSON Schema of `envelope()`, as published in docs/events/."""
        schema = cls.model_json_schema(mode="serialization")
        schema["properties"]["occurred_at"] = {"type": "string", "format": "date-time",
                                               "description": "When it happened (ISO 8601 with offset)"}
        schema["title"] = cls.detail_type_name()
        schema["description"] = (cls.__doc__ or "").strip()
        schema["x-source"] = cls.source
        schema["x-detail-type"] = cls.detail_type_name()
        return schema
