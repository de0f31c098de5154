"""Value types shared by every capability."""
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import core_schema

StoreId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


# Patterns, not compiled ones: `re` compiles them on first use and keeps them (not on every cold start).
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]"
_DECIMAL_TEXT = r"^-?\d{1,15}(\.\d{1,4})?$"


def _no_control_characters(value: Any) -> None:
    if isinstance(value, str):
        if re.search(_CONTROL, value):
            raise ValueError("must not contain control characters")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _no_control_characters(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_control_characters(key)
            _no_control_characters(item)


class StrictModel(BaseModel):
    """What a client sends: unknown fields are refused, and so are control characters in any text
    (tabs and line breaks excepted). Integers and booleans are declared Strict where clients send them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        _no_control_characters(value)
        return value


def _decimal_text(value: Any) -> Any:
    """Money and factors travel as decimal strings ("128.50"): a JSON number is not exact, and forms
    such as "1e3" or "Infinity" are refused. In-process callers may pass a Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and re.match(_DECIMAL_TEXT, value.strip()):
        return value.strip()
    raise ValueError('must be a decimal string such as "128.50"')


def _decimal_number(value: Any) -> Any:
    """Factors and rates may also travel as JSON numbers, read as the shortest decimal they print as
    (1.25 is 1.25, not the binary fraction nearest to it); booleans and exponents are refused."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal number")
    if isinstance(value, (int, float)):
        return _decimal_text(repr(value))
    return _decimal_text(value)


DecimalNumber = Annotated[Decimal, BeforeValidator(_decimal_number)]
"""A factor or rate: a decimal string or a plain JSON number; its Field adds bounds and decimals."""

DecimalText = Annotated[Decimal, BeforeValidator(_decimal_text),
                        WithJsonSchema({"type": "string", "pattern": r"^-?\d{1,15}(\.\d{1,4})?$",
                                        "examples": ["128.50"]})]
"""A decimal that arrives as a string; its Field adds the bounds and the decimals allowed."""


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class _WrittenWithIsoformat:
    """pydantic's PlainSerializer(_iso, return_type=str, when_used="json"), without importing
    pydantic.functional_serializers (three dataclasses built at import: about 2 ms of a cold start)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        schema = handler(source)
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            _iso, info_arg=False, return_schema=core_schema.str_schema(), when_used="json")
        return schema


IsoDateTime = Annotated[datetime, _WrittenWithIsoformat(),
                        WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]
"""A moment written back as the client sent it (isoformat keeps the offset, +08:00 stays +08:00)."""


class Result(BaseModel):
    """A use case's answer, and the OpenAPI schema of the response that carries it. Optional fields
    that do not apply are left out of the body rather than sent as null."""

    model_config = ConfigDict(defer_build=True)  # built on first use, not on every cold import

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
