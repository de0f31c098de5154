"""Whether a member exists, and their tier: one projected GetItem of the member's profile item."""
from __future__ import annotations

from loyalty.platform.dynamo import PROFILE, member_pk


class DynamoMemberDirectory:
    def __init__(self, table):
        self._table = table

    def member_exists(self, member_id: str) -> bool:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        return "Item" in self._table.get_item(Key=key, ProjectionExpression="PK")

    def member_tier(self, member_id: str) -> str | None:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        item = self._table.get_item(Key=key, ProjectionExpression="tier").get("Item")
        return str(item.get("tier", "base")) if item is not None else None
