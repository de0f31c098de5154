"""The chain's stores: reference data every capability reads (written by the operator command)."""
from __future__ import annotations

from pydantic import ConfigDict, BaseModel


class Store(BaseModel):
    model_config = ConfigDict(defer_build=True)

    store_id: str
    name: str
    city: str
    timezone: str = "Asia/Shanghai"
    kind: str = "store"  # store | webshop | app
    status: str = "open"
