"""API clients (a store's POS, a webshop, an app backend, a back-office tool) and what they may do."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from pydantic import ConfigDict, BaseModel

from loyalty.kernel.identity import ClientIdentity, ClientKind, Scope

class ApiKeyRecord(BaseModel):
    """What is stored for a key: never the key itself, only its SHA-256."""

    model_config = ConfigDict(defer_build=True)

    key_id: str
    secret_hash: str
    client_id: str
    kind: ClientKind
    scopes: frozenset[Scope]
    store_ids: frozenset[str]
    description: str = ""
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def identity(self) -> ClientIdentity:
        return ClientIdentity(client_id=self.client_id, kind=self.kind, scopes=self.scopes, store_ids=self.store_ids)


KEY_PREFIX = "lk"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(key_id: str | None = None, secret: str | None = None) -> tuple[str, str, str]:
    """Return (api_key, key_id, secret_hash). The key is shown once; only the hash is kept."""
    key_id = key_id or secrets.token_hex(6)
    secret = secret or secrets.token_urlsafe(24)
    return f"{KEY_PREFIX}_{key_id}_{secret}", key_id, hash_secret(secret)


def parse_api_key(api_key: str) -> tuple[str, str] | None:
    """Split 'lk_<key_id>_<secret>' into (key_id, secret); None when it is not shaped like a key."""
    parts = (api_key or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
