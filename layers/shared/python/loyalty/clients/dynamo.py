"""API keys in the table: one item per key, listed through GSI1; secrets stored hashed."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from loyalty.clients.domain import ApiKeyRecord
from loyalty.platform.dynamo import drop_none, plain, strip_keys


class DynamoApiKeyRepository:
    def __init__(self, table):
        self._table = table

    def put_key(self, record) -> None:
        self._table.put_item(
            Item={"PK": f"APIKEY#{record.key_id}", "SK": "APIKEY", "entity": "api_key", "GSI1PK": "APIKEYS",
                  "GSI1SK": f"{record.client_id}#{record.key_id}", **_key_fields(record)},
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_key(self, key_id: str):
        item = self._table.get_item(Key={"PK": f"APIKEY#{key_id}", "SK": "APIKEY"}).get("Item")
        return ApiKeyRecord.model_validate(_from_key_item(item)) if item else None

    def list_keys(self):
        response = self._table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("APIKEYS"))
        return [ApiKeyRecord.model_validate(_from_key_item(i)) for i in response["Items"]]

    def revoke_key(self, key_id: str, at) -> bool:
        try:
            self._table.update_item(
                Key={"PK": f"APIKEY#{key_id}", "SK": "APIKEY"},
                UpdateExpression="SET revoked_at = :at",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(revoked_at)",
                ExpressionAttributeValues={":at": at.isoformat()},
            )
            return True
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False


def _key_fields(record) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    data["scopes"] = sorted(data["scopes"])
    data["store_ids"] = sorted(data["store_ids"])
    return drop_none(data)


def _from_key_item(item: dict[str, Any]) -> dict[str, Any]:
    return plain(strip_keys(item))
