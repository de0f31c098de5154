"""Storage of API keys."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from loyalty.clients.domain import ApiKeyRecord


class ApiKeyRepository(Protocol):
    def put_key(self, record: ApiKeyRecord) -> None: ...

    def get_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_key(self, key_id: str, at: datetime) -> bool: ...
