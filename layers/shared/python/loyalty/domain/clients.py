"""API clients (a store's POS, a webshop, an app backend, a back-office tool) and what they may do."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from loyalty.domain.errors import MissingScope, StoreNotAllowed

ALL_STORES = "*"


class ClientKind(str, Enum):
    POS = "pos"
    WEBSHOP = "webshop"
    APP = "app"
    BACKOFFICE = "backoffice"


class Scope(str, Enum):
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    POINTS_READ = "points:read"
    POINTS_WRITE = "points:write"
    POINTS_ADJUST = "points:adjust"
    PROGRAM_ADMIN = "program:admin"
    FEEDBACK_WRITE = "feedback:write"
    FEEDBACK_MANAGE = "feedback:manage"
    REPORTS_READ = "reports:read"


_FRONT_OF_HOUSE = {
    Scope.MEMBERS_READ, Scope.MEMBERS_WRITE, Scope.POINTS_READ, Scope.POINTS_WRITE, Scope.FEEDBACK_WRITE,
}
DEFAULT_SCOPES: dict[ClientKind, frozenset[Scope]] = {
    ClientKind.POS: frozenset(_FRONT_OF_HOUSE),
    ClientKind.WEBSHOP: frozenset(_FRONT_OF_HOUSE),
    ClientKind.APP: frozenset(_FRONT_OF_HOUSE),
    ClientKind.BACKOFFICE: frozenset(Scope),
}


class ClientIdentity(BaseModel):
    """Who is calling, as the authorizer established it."""

    client_id: str
    kind: ClientKind
    scopes: frozenset[Scope]
    store_ids: frozenset[str] = Field(description="Stores the client acts for; '*' means every store")

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise MissingScope(f"this client lacks the {scope.value} scope", details={"scope": scope.value})

    def acts_for(self, store_id: str) -> bool:
        return ALL_STORES in self.store_ids or store_id in self.store_ids

    def require_store(self, store_id: str, *, field: str = "store_id") -> None:
        if not self.acts_for(store_id):
            raise StoreNotAllowed(f"this client may not act for store {store_id}", field=field)

    def to_context(self) -> dict[str, str]:
        """Flat string map, as an API Gateway authorizer context must be."""
        return {
            "client_id": self.client_id,
            "kind": self.kind.value,
            "scopes": " ".join(sorted(s.value for s in self.scopes)),
            "store_ids": " ".join(sorted(self.store_ids)),
        }

    @classmethod
    def from_context(cls, context: dict) -> "ClientIdentity":
        return cls(
            client_id=context["client_id"],
            kind=ClientKind(context["kind"]),
            scopes=frozenset(Scope(s) for s in context.get("scopes", "").split()),
            store_ids=frozenset(context.get("store_ids", "").split()),
        )


class ApiKeyRecord(BaseModel):
    """What is stored for a key: never the key itself, only its SHA-256."""

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
