"""Whether a member exists, their tier, their birthday: one projected GetItem of the member's profile item."""
from __future__ import annotations

from datetime import date

from loyalty.platform.dynamo import PROFILE, member_pk


class DynamoMemberDirectory:
    def __init__(self, table):
        self._table = table

    def member_exists(self, member_id: str) -> bool:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        return "Item" in self._table.get_item(Key=key, ProjectionExpression="PK")

    def member_birthday(self, member_id: str) -> tuple[bool, date | None]:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        item = self._table.get_item(Key=key, ProjectionExpression="PK, birthday, #s",
                                    ExpressionAttributeNames={"#s": "status"}).get("Item")
        if item is None or item.get("status") == "erased":  # an erased member is gone for benefits
            return False, None
        return True, date.fromisoformat(item["birthday"]) if item.get("birthday") else None

    def member_tier(self, member_id: str) -> str | None:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        item = self._table.get_item(Key=key, ProjectionExpression="tier").get("Item")
        return str(item.get("tier", "base")) if item is not None else None
