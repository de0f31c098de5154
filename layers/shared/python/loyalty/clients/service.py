"""Authenticate an API key and manage keys (create, list, revoke)."""
from __future__ import annotations

import re

from loyalty.clients.domain import ApiKeyRecord, new_api_key, parse_api_key, secret_matches
from loyalty.kernel.identity import ClientIdentity, ClientKind, DEFAULT_SCOPES, Scope
from loyalty.kernel.errors import InvalidInput
from loyalty.clients.ports import ApiKeyRepository
from loyalty.kernel.ports import Clock

_KEY_ID = re.compile(r"^[A-Za-z0-9-]{1,32}$")


class ApiKeyService:
    def __init__(self, keys: ApiKeyRepository, clock: Clock):
        self._keys = keys
        self._clock = clock

    def authenticate(self, api_key: str | None) -> ClientIdentity | None:
        """The caller's identity, or None for a missing, malformed, unknown or revoked key."""
        parsed = parse_api_key(api_key or "")
        if parsed is None:
            return None
        key_id, secret = parsed
        record = self._keys.get_key(key_id)
        if record is None or not record.active or not secret_matches(secret, record.secret_hash):
            return None
        return record.identity()

    def create(self, client_id: str, kind: ClientKind, store_ids: list[str], scopes: list[Scope] | None = None,
               description: str = "", *, key_id: str | None = None, secret: str | None = None) -> tuple[str, ApiKeyRecord]:
        if not store_ids:
            raise InvalidInput("a client acts for at least one store ('*' for all)", field="store_ids")
        if kind != ClientKind.BACKOFFICE and "*" in store_ids:
            raise InvalidInput("only back-office clients may act for every store", field="store_ids")
        if key_id is not None and not _KEY_ID.match(key_id):
            # '_' separates the parts of lk_<key id>_<secret>: such a key could never be parsed back
            raise InvalidInput("a key id has 1 to 32 letters, digits or dashes", field="key_id")
        api_key, key_id, secret_hash = new_api_key(key_id, secret)
        record = ApiKeyRecord(
            key_id=key_id, secret_hash=secret_hash, client_id=client_id, kind=kind,
            scopes=frozenset(scopes) if scopes else DEFAULT_SCOPES[kind], store_ids=frozenset(store_ids),
            description=description, created_at=self._clock.now(),
        )
        self._keys.put_key(record)
        return api_key, record

    def list(self) -> list[ApiKeyRecord]:
        return self._keys.list_keys()

    def revoke(self, key_id: str) -> bool:
        return self._keys.revoke_key(key_id, self._clock.now())
