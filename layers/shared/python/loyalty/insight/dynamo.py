"""DynamoDB adapter of member insight (docs/table-design.md, "Member insight"): the profile item under the
member, the daily check's index (GSI4, overloaded with its own partition names, keys only), the churn-risk
lists by store, and the markers of applied events."""
from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from typing import Any, Iterator

from boto3.dynamodb.conditions import Attr, Key

from loyalty.insight.errors import ChurnRiskNotFound, TagRulesVersionConflict
from loyalty.insight.profile import Profile
from loyalty.kernel.errors import ConcurrentUpdate, InvalidInput
from loyalty.kernel.ids import new_id
from loyalty.platform.cursor import decode_cursor, encode_cursor
from loyalty.insight.rules import TagRuleSet, default_rule_set
from loyalty.platform.dynamo import CachedVersionedDocument, Transaction, member_pk, plain
from loyalty.platform.outbox import outbox_puts

INSIGHT = "INSIGHT"
CHECK_INDEX = "GSI4"  # shared with the tier review: the partition names differ (INSIGHTCHECK#, TIERREVIEW#)
CHECK_SHARDS = 16
MARKER_KEPT = timedelta(days=30)  # SQS retries for 4 days; a dead-lettered message may be redriven within 14


class EventAlreadyApplied(Exception):
    pass


def _applied_before(_old: dict | None) -> None:
    raise EventAlreadyApplied()


def _profile_changed(_old: dict | None) -> None:
    raise ConcurrentUpdate("the member's insight profile changed since it was read")


def check_partition(day: date, shard: int) -> str:
    return f"INSIGHTCHECK#{day.isoformat()}#{shard}"


def check_shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % CHECK_SHARDS


def churn_key(store_id: str, member_id: str) -> dict[str, str]:
    return {"PK": f"CHURNLIST#{store_id}", "SK": f"MEMBER#{member_id}"}


class DynamoInsightRepository:
    shards = CHECK_SHARDS

    def __init__(self, table, page_size: int = 100):
        self._table = table
        self._client = table.meta.client
        self._name = table.name
        self._page_size = page_size

    def load(self, member_id: str) -> tuple[Profile | None, int]:
        item = self._table.get_item(Key={"PK": member_pk(member_id), "SK": INSIGHT}, ConsistentRead=True).get("Item")
        if item is None:
            return None, 0
        return Profile.model_validate(plain(item["profile"])), int(item["version"])

    def save(self, profile: Profile, *, version: int, next_check_on: date | None, event_id: str | None,
             churn_entry: dict[str, Any] | None, events: list, history: dict[str, Any] | None = None) -> bool:
        items: list[dict[str, Any]] = []
        failures = {}
        if event_id is not None:
            failures[0] = _applied_before
            items.append({"Put": {"TableName": self._name, "Item": {
                "PK": f"INSIGHTEVT#{event_id}", "SK": "SEEN", "entity": "insight_event_marker",
                "expires_at": int((datetime.now().astimezone() + MARKER_KEPT).timestamp())},
                "ConditionExpression": "attribute_not_exists(PK)"}})
        item = {"PK": member_pk(profile.member_id), "SK": INSIGHT, "entity": "insight_profile",
                "member_id": profile.member_id, "profile": profile.model_dump(mode="json", exclude_none=True),
                "version": version + 1}
        if next_check_on is not None:
            item |= {"GSI4PK": check_partition(next_check_on, check_shard(profile.member_id)),
                     "GSI4SK": profile.member_id}
        condition = ({"ConditionExpression": "attribute_not_exists(PK)"} if version == 0 else
                     {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": version}})
        failures[len(items)] = _profile_changed
        items.append({"Put": {"TableName": self._name, "Item": item, **condition}})
        if churn_entry is not None:
            items.append({"Put": {"TableName": self._name, "Item": {
                **churn_key(churn_entry["store_id"], profile.member_id), "entity": "churn_risk", **churn_entry}}})
        if history is not None:  # a tag decided by hand: kept as its own item under the member
            items.append({"Put": {"TableName": self._name, "Item": {
                "PK": member_pk(profile.member_id), "SK": f"TAGHIST#{history['at']}#{new_id('tag')}",
                "entity": "tag_history", **history}, "ConditionExpression": "attribute_not_exists(PK)"}})
        items += outbox_puts(self._name, events)
        try:
            Transaction(self._client, items, failures=failures).commit()
        except EventAlreadyApplied:
            return False
        return True

    def forget(self, member_id: str) -> bool:
        profile, _ = self.load(member_id)
        if profile is None:
            return False
        self._table.delete_item(Key=churn_key(profile.home_store or "*", member_id))
        for entry in self._table.query(KeyConditionExpression=Key("PK").eq(member_pk(member_id))
                                       & Key("SK").begins_with("TAGHIST#"), ProjectionExpression="PK, SK")["Items"]:
            self._table.delete_item(Key={"PK": entry["PK"], "SK": entry["SK"]})  # reasons are free text
        self._table.delete_item(Key={"PK": member_pk(member_id), "SK": INSIGHT})
        return True

    def due_members(self, day: date, shard: int) -> Iterator[str]:
        query: dict[str, Any] = {"IndexName": CHECK_INDEX, "Limit": self._page_size,
                                 "KeyConditionExpression": Key("GSI4PK").eq(check_partition(day, shard))}
        while True:
            page = self._table.query(**query)
            for found in page["Items"]:
                yield found["GSI4SK"]
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def churn_page(self, store_id: str, status: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]:
        pk = f"CHURNLIST#{store_id}"
        query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(pk), "Limit": limit}
        if status is not None:
            query["FilterExpression"] = Attr("status").eq(status)
        if cursor is not None:
            key = decode_cursor(cursor)
            if set(key) != {"PK", "SK"} or key["PK"] != pk:
                raise InvalidInput("cursor is not one of this store's churn-risk list", field="cursor")
            query["ExclusiveStartKey"] = key
        page = self._table.query(**query)
        items = [{k: v for k, v in plain(i).items() if k not in ("PK", "SK", "entity")} for i in page["Items"]]
        last = page.get("LastEvaluatedKey")
        return items, encode_cursor({"PK": last["PK"], "SK": last["SK"]}) if last else None

    def update_churn(self, store_id: str, member_id: str, status: str, note: str | None, at: str) -> dict[str, Any]:
        client = self._table.meta.client
        try:
            answer = self._table.update_item(
                Key=churn_key(store_id, member_id), ConditionExpression="attribute_exists(PK)",
                UpdateExpression="SET #s = :s, worked_at = :at" + (", note = :n" if note else " REMOVE note"),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": status, ":at": at, **({":n": note} if note else {})},
                ReturnValues="ALL_NEW")
        except client.exceptions.ConditionalCheckFailedException:
            raise ChurnRiskNotFound(f"member {member_id} is not on {store_id}'s churn-risk list",
                                    field="member_id") from None
        return {k: v for k, v in plain(answer["Attributes"]).items() if k not in ("PK", "SK", "entity", "worked_at")}

    def tag_history(self, member_id: str, limit: int = 20) -> list[dict[str, Any]]:
        page = self._table.query(KeyConditionExpression=Key("PK").eq(member_pk(member_id))
                                 & Key("SK").begins_with("TAGHIST#"), ScanIndexForward=False, Limit=limit)
        return [{k: v for k, v in plain(i).items() if k not in ("PK", "SK", "entity")} for i in page["Items"]]


class DynamoTagRules(CachedVersionedDocument):
    """The tag rules item, cached per container (a change reaches every container within the cache's time)."""

    SK, ATTRIBUTE, ENTITY = "TAGRULES", "tag_rules", "tag_rules"

    def parse(self, body: dict[str, Any], version: int) -> TagRuleSet:
        return TagRuleSet.model_validate({**body, "version": version})

    def default(self) -> TagRuleSet:
        return default_rule_set()

    def conflict(self, version_read: int) -> Exception:
        return TagRulesVersionConflict(
            f"the tag rules changed since version {version_read}; reload them and apply your change again",
            field="version")
