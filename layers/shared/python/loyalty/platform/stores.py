"""The store directory: one item per store, listed through GSI1."""
from __future__ import annotations

import time

from boto3.dynamodb.conditions import Key

from loyalty.kernel.stores import Store
from loyalty.platform.dynamo import drop_none, plain, strip_keys


def store_key(store_id: str) -> dict[str, str]:
    return {"PK": f"STORE#{store_id}", "SK": "STORE"}


class DynamoStoreDirectory:
    def __init__(self, table):
        self._table = table

    def get_store(self, store_id: str) -> Store | None:
        item = self._table.get_item(Key=store_key(store_id)).get("Item")
        return Store.model_validate(plain(strip_keys(item))) if item else None

    def put_store(self, store: Store) -> None:
        self._table.put_item(Item={
            **store_key(store.store_id), "entity": "store",
            "GSI1PK": "STORES", "GSI1SK": store.store_id, **drop_none(store.model_dump(mode="json")),
        })

    def list_stores(self) -> list[Store]:
        response = self._table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("STORES"))
        return [Store.model_validate(plain(strip_keys(i))) for i in response["Items"]]


class CachedStoreDirectory:
    """A store directory read through a per-container cache: stores change rarely, and every earning
    operation needs its store. A store found is kept `ttl_seconds`; a store not found is asked again."""

    def __init__(self, directory: DynamoStoreDirectory, ttl_seconds: float = 60.0):
        self._directory = directory
        self._ttl = ttl_seconds
        self._cached: dict[str, tuple[float, Store]] = {}

    def get_store(self, store_id: str) -> Store | None:
        hit = self._cached.get(store_id)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        store = self._directory.get_store(store_id)
        if store is not None:
            self._cached[store_id] = (time.monotonic(), store)
        return store
