"""The store directory: one item per store, listed through GSI1."""
from __future__ import annotations

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
