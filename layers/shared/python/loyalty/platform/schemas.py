"""Response shapes for the OpenAPI document (requests are the domain's own models)."""
from __future__ import annotations

from pydantic import BaseModel, Field



class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. PHONE_ALREADY_ENROLLED")
    message: str
    field: str | None = Field(default=None, description="The offending field, when one is to blame")
    details: dict | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def json_content(model: type[BaseModel], description: str) -> dict:
    return {"description": description, "content": {"application/json": {"model": model}}}


ERRORS = {
    400: json_content(ErrorBody, "Malformed or invalid input; `field` names the offending field"),
    401: json_content(ErrorBody, "Missing, unknown or revoked API key"),
    403: json_content(ErrorBody, "The client may not do this (scope or store)"),
    413: json_content(ErrorBody, "Request body too large"),
}
NOT_FOUND = {404: json_content(ErrorBody, "No such member")}
CONFLICT = {409: json_content(ErrorBody, "Conflicts with existing data or a reused idempotency key")}
