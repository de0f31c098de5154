"""DynamoDB adapter of the tiers: the ladder item (cached per container), tier history items, the
profile's tier, and the review index (GSI4, keys only, on the points balance that carries the standing)."""
from __future__ import annotations

import zlib
from datetime import date, datetime, timezone
from typing import Any, Iterator

from boto3.dynamodb.conditions import Key

from loyalty.kernel.errors import InvalidInput
from loyalty.kernel.ids import new_id
from loyalty.kernel.spending import JoinedWrite
from loyalty.platform.cursor import decode_cursor, encode_cursor
from loyalty.platform.dynamo import PROFILE, CachedVersionedDocument, drop_none, member_pk, plain
from loyalty.tiers.errors import LadderVersionConflict
from loyalty.tiers.ladder import Ladder, LadderInput, default_ladder
from loyalty.tiers.ports import HistoryEntry

REVIEW_INDEX = "GSI4"
REVIEW_SHARDS = 16
HISTORY = "TIERHIST#"


def review_partition(day: date, shard: int) -> str:
    return f"TIERREVIEW#{day.isoformat()}#{shard}"


def review_shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % REVIEW_SHARDS


def review_index_keys(member_id: str, standing: dict[str, Any] | None) -> dict[str, str]:
    """GSI4 keys of a balance whose standing has review work on a day; none (not in the sparse index)
    otherwise. The points repository adds them to every balance it writes."""
    check_on = (standing or {}).get("check_on")
    if not check_on:
        return {}
    return {"GSI4PK": review_partition(date.fromisoformat(check_on), review_shard(member_id)), "GSI4SK": member_id}


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoTierRecords:
    def __init__(self, table):
        self._table = table
        self._name = table.name

    def history_write(self, member_id: str, entry: HistoryEntry) -> JoinedWrite:
        # Two changes may share a moment (an upgrade and the return that takes it back): the id tells them apart.
        item = {"PK": member_pk(member_id), "SK": f"{HISTORY}{_utc(entry.at)}#{new_id('tch')}",
                "entity": "tier_history", "member_id": member_id, **drop_none(entry.model_dump(mode="json"))}
        return JoinedWrite({"Put": {"TableName": self._name, "Item": item,
                                    "ConditionExpression": "attribute_not_exists(PK)"}})

    def profile_tier_write(self, member_id: str, tier: str) -> JoinedWrite:
        # `version` moves too, so a profile change that read the old tier is refused and read again.
        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": {"PK": member_pk(member_id), "SK": PROFILE},
            "UpdateExpression": "SET tier = :t ADD version :one",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": {":t": tier, ":one": 1},
        }})

    def history_page(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[HistoryEntry], str | None]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with(HISTORY),
            "ScanIndexForward": False, "Limit": limit + 1,
        }
        if cursor is not None:
            key = decode_cursor(cursor)
            if set(key) != {"PK", "SK"} or key["PK"] != member_pk(member_id) or not key["SK"].startswith(HISTORY):
                raise InvalidInput("cursor is not one of this member's tier history", field="cursor")
            query["ExclusiveStartKey"] = key
        items = self._table.query(**query)["Items"]
        page = items[:limit]
        entries = [HistoryEntry.model_validate(plain(i)) for i in page]
        more = len(items) > limit
        return entries, encode_cursor({"PK": page[-1]["PK"], "SK": page[-1]["SK"]}) if more and page else None


class DynamoReviewIndex:
    WATERMARK_KEY = {"PK": "JOB#tier_review", "SK": "WATERMARK"}
    shards = REVIEW_SHARDS

    def __init__(self, table, page_size: int = 100):
        self._table = table
        self._page_size = page_size

    def due_members(self, day: date, shard: int, after: str | None = None) -> Iterator[str]:
        partition = review_partition(day, shard)
        query: dict[str, Any] = {"IndexName": REVIEW_INDEX, "KeyConditionExpression": Key("GSI4PK").eq(partition),
                                 "Limit": self._page_size}
        if after is not None:
            query["KeyConditionExpression"] = Key("GSI4PK").eq(partition) & Key("GSI4SK").gt(after)
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                yield item["GSI4SK"]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def reviewed_through(self) -> date | None:
        item = self._table.get_item(Key=self.WATERMARK_KEY, ConsistentRead=True).get("Item")
        return date.fromisoformat(item["reviewed_through"]) if item else None

    def set_reviewed_through(self, day: date) -> None:
        try:
            self._table.put_item(
                Item={**self.WATERMARK_KEY, "entity": "job_watermark", "reviewed_through": day.isoformat()},
                ConditionExpression="attribute_not_exists(PK) OR #d <= :day",
                ExpressionAttributeNames={"#d": "reviewed_through"},
                ExpressionAttributeValues={":day": day.isoformat()},
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            pass  # another run already moved it further


class DynamoLadderRepository(CachedVersionedDocument):
    """The ladder item, cached per container (a change reaches every container within the cache's time)."""

    SK, ATTRIBUTE, ENTITY = "TIERS", "ladder", "tier_ladder"

    def parse(self, body: dict[str, Any], version: int) -> Ladder:
        return Ladder.model_validate({**body, "version": version})

    def default(self) -> Ladder:
        return default_ladder()

    def conflict(self, version_read: int) -> Exception:
        return LadderVersionConflict(
            f"the ladder changed since version {version_read}; reload it and apply your change again",
            field="version")

    def replace(self, ladder: LadderInput, *, changed_by: str, at: datetime) -> Ladder:
        return super().replace(ladder, changed_by=changed_by, at=at)
