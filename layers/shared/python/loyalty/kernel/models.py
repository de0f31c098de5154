"""Value types shared by every capability."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

StoreId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


IsoDateTime = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json"),
                        WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]
"""A moment written back as the client sent it (isoformat keeps the offset, +08:00 stays +08:00)."""


class Result(BaseModel):
    """A use case's answer, and the OpenAPI schema of the response that carries it. Optional fields
    that do not apply are left out of the body rather than sent as null."""

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
