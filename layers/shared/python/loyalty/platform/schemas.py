"""Response shapes for the OpenAPI document (requests are the domain's own models)."""
from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)  # for the OpenAPI document; error bodies are dicts

    code: str = Field(description="Stable machine-readable error code, e.g. PHONE_ALREADY_ENROLLED")
    message: str
    field: str | None = Field(default=None, description="The offending field, when one is to blame")
    details: dict | None = None


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


def json_content(model: type[BaseModel], description: str) -> dict:
    return {"description": description, "content": {"application/json": {"model": model}}}


def errors(*, bad_request: tuple[str, ...] = (), not_found: tuple[str, ...] = (), conflict: tuple[str, ...] = (),
           refused: tuple[str, ...] = (), body: bool = True) -> dict:
    """Every error status an operation can answer, each with its codes, in the one error shape."""
    def codes(*names: str) -> str:
        return ", ".join(f"`{n}`" for n in names)

    responses = {
        400: json_content(ErrorBody, "Invalid input; `field` names the offending field: "
                          + codes(*(("MALFORMED_JSON",) if body else ()), "VALIDATION_FAILED", "INVALID_INPUT",
                                  *bad_request)),
        401: json_content(ErrorBody, "Missing, unknown or revoked API key: " + codes("UNAUTHORIZED")),
        403: json_content(ErrorBody, "The client may not do this: " + codes("MISSING_SCOPE", "STORE_NOT_ALLOWED")),
        429: json_content(ErrorBody, "Too many requests; retry with backoff: " + codes("THROTTLED")),
    }
    if body:
        responses[413] = json_content(ErrorBody, "Request body over 64 KiB: " + codes("PAYLOAD_TOO_LARGE"))
    if not_found:
        responses[404] = json_content(ErrorBody, "Not found: " + codes(*not_found))
    if "MEMBER_NOT_FOUND" in not_found:  # a member who was, and whose personal data was erased
        responses[410] = json_content(ErrorBody, "The member's personal data was erased: " + codes("MEMBER_ERASED"))
    if conflict:
        responses[409] = json_content(ErrorBody, "Conflicts with what is stored; " + codes(*conflict))
    if refused:
        responses[422] = json_content(ErrorBody, "Well formed, but a rule of the program refuses it: " + codes(*refused))
    return responses
