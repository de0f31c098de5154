"""Who is calling and what it may do: the identity the authorizer establishes, checked by every use case."""
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.errors import MissingScope, StoreNotAllowed

ALL_STORES = "*"


class ClientKind(str, Enum):
    POS = "pos"
    WEBSHOP = "webshop"
    APP = "app"
    BACKOFFICE = "backoffice"


class Scope(str, Enum):
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    MEMBERS_ERASE = "members:erase"
    MEMBERS_EXPORT = "members:export"
    MEMBERS_PII = "members:pii"  # a member's phone, email, name, birthday and address in clear
    POINTS_READ = "points:read"
    POINTS_WRITE = "points:write"
    POINTS_ADJUST = "points:adjust"
    PROGRAM_ADMIN = "program:admin"
    FEEDBACK_WRITE = "feedback:write"
    FEEDBACK_MANAGE = "feedback:manage"
    REPORTS_READ = "reports:read"
    KPIS_READ = "kpis:read"  # KPI and reconciliation reports; a key for some stores sees those stores' figures
    INSIGHT_READ = "insight:read"  # members' behaviour profiles, tags, stages and the churn-risk work list
    INSIGHT_MANAGE = "insight:manage"  # tag rules, staff's tag decisions, working the churn-risk list


_FRONT_OF_HOUSE = {  # tills, the webshop and the app serve the member in person: they see who it is
    Scope.MEMBERS_READ, Scope.MEMBERS_WRITE, Scope.MEMBERS_PII, Scope.POINTS_READ, Scope.POINTS_WRITE, Scope.FEEDBACK_WRITE,
}
DEFAULT_SCOPES: dict[ClientKind, frozenset[Scope]] = {
    ClientKind.POS: frozenset(_FRONT_OF_HOUSE),
    ClientKind.WEBSHOP: frozenset(_FRONT_OF_HOUSE),
    ClientKind.APP: frozenset(_FRONT_OF_HOUSE | {Scope.MEMBERS_EXPORT}),  # the member asks for their data
    ClientKind.BACKOFFICE: frozenset(Scope),
}


class ClientIdentity(BaseModel):
    """Who is calling, as the authorizer established it."""

    model_config = ConfigDict(defer_build=True)

    client_id: str
    kind: ClientKind
    scopes: frozenset[Scope]
    store_ids: frozenset[str] = Field(description="Stores the client acts for; '*' means every store")

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

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
