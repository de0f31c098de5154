"""The one cursor codec: a page's continuation position as an opaque, URL-safe string. What the
position holds (DynamoDB keys, a partition index, a query fingerprint) is the adapter's business;
a cursor that does not decode to an object of strings, integers and such objects is refused."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from loyalty.kernel.errors import InvalidInput

MAX_CURSOR_CHARS = 2048


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position a cursor of encode_cursor carries; InvalidInput (field "cursor") for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise not_ours() from None
    if not isinstance(position, dict) or not _plain(position):
        raise not_ours()
    return position


def not_ours() -> InvalidInput:
    return InvalidInput("cursor is not one this API returned", field="cursor")


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, (str, int)) and not isinstance(value, bool)
