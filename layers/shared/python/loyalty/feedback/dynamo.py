"""DynamoDB implementation of FeedbackRepository (items, history, configuration; see docs/table-design.md)."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from boto3.dynamodb.conditions import Attr, Key

from loyalty.platform.dynamo import INTERNAL_ATTRIBUTES, Transaction, drop_none, plain, strip_keys
from loyalty.platform.outbox import outbox_puts
from loyalty.kernel.events import DomainEvent
from loyalty.kernel.errors import ConcurrentUpdate, InvalidInput
from loyalty.feedback.domain import OPEN_STATUSES, FeedbackHistoryEntry, FeedbackItem, FeedbackQuery, FeedbackStatus
from loyalty.feedback.config import FeedbackConfig, StoredFeedbackConfig
from loyalty.feedback.kpis import StatDelta, merged
from loyalty.feedback.ports import FeedbackPage

ITEM_SK = "FEEDBACK"
HISTORY_PREFIX = "HISTORY#"
CONFIG_KEY = {"PK": "CONFIG", "SK": "FEEDBACK"}
PAGE_READ = 100  # items per DynamoDB query page while listing
MAX_READ_PER_REQUEST = 1000  # a very selective filter returns a cursor instead of reading on and on


def stats_pk(day: date) -> str:
    """A day's handling counters (UTC+8 days): one item per store, department, assignee and the chain."""
    return f"FEEDBACKSTATS#{day.isoformat()}"


def feedback_pk(feedback_id: str) -> str:
    return f"FEEDBACK#{feedback_id}"


def status_partition(status: FeedbackStatus) -> str:
    return f"FEEDBACK#STATUS#{status.value}"


def store_partition(store_id: str) -> str:
    return f"FEEDBACK#STORE#{store_id}"


def member_partition(member_id: str) -> str:
    """GSI3 (keys only): a member's feedback, newest last; the sort key holds the kind for the repeat check."""
    return f"FEEDBACK#MEMBER#{member_id}"


def member_sort_key(item: FeedbackItem) -> str:
    return f"{time_key(item.received_at)}#{item.kind.value}#{item.feedback_id}"


def _check_position(key: dict[str, str], partition_key: str, sort_key: str, partition: str) -> None:
    """A cursor's start key must be a feedback item's keys in the partition being read: DynamoDB answers
    anything else with a ValidationException, which would be a 500."""
    if set(key) != {"PK", "SK", partition_key, sort_key} or not key["PK"].startswith(feedback_pk("")):
        raise InvalidInput("cursor is not one this query returned", field="cursor")
    feedback_id = key["PK"].removeprefix(feedback_pk(""))
    if (not feedback_id or key["SK"] != ITEM_SK or key[partition_key] != partition
            or not key[sort_key].endswith(f"#{feedback_id}")):
        raise InvalidInput("cursor is not one this query returned", field="cursor")


def time_key(moment: datetime) -> str:
    """Fixed-width UTC time, so keys sort as times do."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _AlreadyStored(Exception):
    def __init__(self, old: dict | None):
        super().__init__("already stored")
        self.old = old


class _ConditionNotMet(Exception):
    pass


class DynamoFeedbackRepository:
    def __init__(self, table):
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    # -- intake processing ------------------------------------------------------------------------
    def create(self, item: FeedbackItem, entry: FeedbackHistoryEntry,
               stats: list[StatDelta] = ()) -> FeedbackItem | None:
        def exists(old):
            raise _AlreadyStored(old)

        items = [
            {"Put": {"TableName": self._name, "Item": self._item(item),
                     "ConditionExpression": "attribute_not_exists(PK)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            self._put_new(self._history_item(entry)),
            *self._stat_updates(stats),
        ]
        try:
            Transaction(self._client, items, failures={0: exists}).commit()
            return None
        except _AlreadyStored as stored:
            if stored.old is not None:
                return self._parse(stored.old)
            existing = self.get(item.feedback_id, consistent=True)
            if existing is None:
                raise ConcurrentUpdate("feedback vanished while being stored; retry") from None
            return existing

    def mark_processed(self, feedback_id: str, *, events_published_at: datetime | None = None,
                       reward_settled_at: datetime | None = None) -> None:
        values = {"events_published_at": events_published_at, "reward_settled_at": reward_settled_at}
        values = {k: v.isoformat() for k, v in values.items() if v is not None}
        if not values:
            return
        self._table.update_item(
            Key=self._key(feedback_id),
            UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in values),
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
        )

    # -- reads ------------------------------------------------------------------------------------
    def get(self, feedback_id: str, *, consistent: bool = False) -> FeedbackItem | None:
        raw = self._table.get_item(Key=self._key(feedback_id), ConsistentRead=consistent).get("Item")
        return self._parse(raw) if raw else None

    def history(self, feedback_id: str) -> list[FeedbackHistoryEntry]:
        condition = Key("PK").eq(feedback_pk(feedback_id)) & Key("SK").begins_with(HISTORY_PREFIX)
        return [FeedbackHistoryEntry.model_validate(plain(strip_keys(raw)))
                for raw in self._query(KeyConditionExpression=condition)]

    # -- staff workflow -----------------------------------------------------------------------------
    def update(self, before: FeedbackItem, after: FeedbackItem, entry: FeedbackHistoryEntry,
               events: list[DomainEvent] = (), stats: list[StatDelta] = ()) -> None:
        old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if after.status != before.status:
            changed["GSI1PK"] = status_partition(after.status)
        if after.due_at != before.due_at:
            changed["GSI1SK"] = f"{time_key(after.due_at)}#{after.feedback_id}"
        sets = {k: v for k, v in changed.items() if v is not None}
        removes = [k for k, v in changed.items() if v is None]
        names = {f"#{k}": k for k in changed} | {"#v": "version"}
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        values = {f":{k}": v for k, v in sets.items()} | {":expected": before.version}

        def changed_meanwhile(_old):
            raise ConcurrentUpdate(f"feedback {before.feedback_id} was changed by someone else; reload and retry",
                                   field="version")

        items = [
            {"Update": {"TableName": self._name, "Key": self._key(before.feedback_id), "UpdateExpression": expression,
                        "ConditionExpression": "attribute_exists(PK) AND #v = :expected",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
            self._put_new(self._history_item(entry)),
            *outbox_puts(self._name, list(events)),
            *self._stat_updates(stats),
        ]
        Transaction(self._client, items, failures={0: changed_meanwhile}).commit()

    # -- invitations --------------------------------------------------------------------------------
    def invite(self, invitation_id: str, member_id: str, store_id: str, order_id: str, expires_at: datetime,
               event: DomainEvent) -> bool:
        def already(_old):
            raise _ConditionNotMet()

        item = {"PK": f"FEEDBACKINVITE#{store_id}#{order_id}", "SK": "INVITATION", "entity": "feedback_invitation",
                "invitation_id": invitation_id, "member_id": member_id, "expires_at_iso": expires_at.isoformat(),
                # TTL: gone a month after it lapsed; the same order is not invited again meanwhile.
                "expires_at": int(expires_at.timestamp()) + 30 * 86400}
        try:
            Transaction(self._client, [self._put_new(item), *outbox_puts(self._name, [event])],
                        failures={0: already}).commit()
            return True
        except _ConditionNotMet:
            return False

    # -- handling KPIs ----------------------------------------------------------------------------
    def _stat_updates(self, stats: list[StatDelta]) -> list[dict[str, Any]]:
        updates = []
        for delta in merged(list(stats)):
            names = {f"#c{i}": name for i, name in enumerate(delta.add)}
            values = {f":c{i}": value for i, value in enumerate(delta.add.values())}
            updates.append({"Update": {
                "TableName": self._name, "Key": {"PK": stats_pk(delta.day), "SK": f"{delta.dimension}#{delta.value}"},
                "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values))
                                    + " SET #entity = :entity, #dimension = :dimension, #value = :value",
                "ExpressionAttributeNames": {**names, "#entity": "entity", "#dimension": "dimension", "#value": "value"},
                "ExpressionAttributeValues": {**values, ":entity": "feedback_stats", ":dimension": delta.dimension,
                                              ":value": delta.value},
            }})
        return updates

    def stats_between(self, first: date, last: date) -> Iterator[dict]:
        """Every counter item of the days from `first` to `last`: one partition per day."""
        day = first
        while day <= last:
            for raw in self._query(KeyConditionExpression=Key("PK").eq(stats_pk(day))):
                yield plain(raw)
            day += timedelta(days=1)

    # -- overdue check ------------------------------------------------------------------------------
    def past_due(self, status: FeedbackStatus, now: datetime) -> Iterator[FeedbackItem]:
        """Open items due before `now` not yet announced as overdue (announced ones are filtered out)."""
        for raw in self._query(
            IndexName="GSI1",
            KeyConditionExpression=Key("GSI1PK").eq(status_partition(status)) & Key("GSI1SK").lt(time_key(now)),
            FilterExpression=Attr("overdue_notified_at").not_exists(),
        ):
            yield self._parse(raw)

    def flag_overdue(self, item: FeedbackItem, now: datetime, entry: FeedbackHistoryEntry) -> bool:
        def not_flagged(_old):
            raise _ConditionNotMet()

        open_values = {f":s{i}": s.value for i, s in enumerate(OPEN_STATUSES)}
        items = [
            {"Update": {
                "TableName": self._name, "Key": self._key(item.feedback_id),
                "UpdateExpression": "SET overdue = :true, overdue_at = :now",
                # Still open, really past due (GSI1SK starts with the due time) and flagged only once.
                "ConditionExpression": f"attribute_exists(PK) AND attribute_not_exists(overdue_at) "
                                       f"AND #status IN ({', '.join(open_values)}) AND GSI1SK < :now_key",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":true": True, ":now": now.isoformat(), ":now_key": time_key(now),
                                              **open_values},
            }},
            self._put_new(self._history_item(entry)),
        ]
        try:
            Transaction(self._client, items, failures={0: not_flagged}).commit()
            return True
        except _ConditionNotMet:
            return False

    def mark_overdue_notified(self, feedback_id: str, at: datetime) -> None:
        self._table.update_item(
            Key=self._key(feedback_id), UpdateExpression="SET overdue_notified_at = :at",
            ConditionExpression="attribute_exists(PK)", ExpressionAttributeValues={":at": at.isoformat()},
        )

    # -- listing ------------------------------------------------------------------------------------
    def search(self, query: FeedbackQuery, now: datetime, allowed: Callable[[FeedbackItem], bool]) -> FeedbackPage:
        partitions = self._partitions(query, now)
        fingerprint = query.fingerprint()
        index, start_key = self._decode_cursor(query.cursor, fingerprint, len(partitions))
        if start_key is not None:
            _, partition_key, sort_key, _, _, partition = partitions[index]
            _check_position(start_key, partition_key, sort_key, partition)
        found: list[FeedbackItem] = []
        read = 0
        while index < len(partitions):
            index_name, partition_key, sort_key, condition, forward, _partition = partitions[index]
            request: dict[str, Any] = {"IndexName": index_name, "KeyConditionExpression": condition,
                                       "ScanIndexForward": forward, "Limit": PAGE_READ}
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._table.query(**request)
            for raw in response["Items"]:
                read += 1
                item = self._parse(raw)
                if query.matches(item, now) and allowed(item):
                    found.append(item)
                if len(found) == query.limit or read >= MAX_READ_PER_REQUEST:
                    position = {k: raw[k] for k in ("PK", "SK", partition_key, sort_key)}
                    return FeedbackPage(found, self._encode_cursor(fingerprint, index, position))
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                index, start_key = index + 1, None
        return FeedbackPage(found, None)

    @staticmethod
    def _partitions(query: FeedbackQuery, now: datetime) -> list[tuple]:
        """(index, partition key name, sort key name, key condition, oldest first?, partition) to read, in order.

        A store's items newest first (GSI2); otherwise one status, or every open status, by due time
        (GSI1). With overdue=true an open status is read only up to now, since its key starts with due_at.
        """
        if query.store_id is not None:
            partition = store_partition(query.store_id)
            return [("GSI2", "GSI2PK", "GSI2SK", Key("GSI2PK").eq(partition), False, partition)]
        statuses = [query.status] if query.status is not None else list(OPEN_STATUSES)
        partitions = []
        for status in statuses:
            partition = status_partition(status)
            condition = Key("GSI1PK").eq(partition)
            if query.overdue and status in OPEN_STATUSES:
                condition = condition & Key("GSI1SK").lt(time_key(now))
            partitions.append(("GSI1", "GSI1PK", "GSI1SK", condition, True, partition))
        return partitions

    @staticmethod
    def _encode_cursor(fingerprint: str, index: int, key: dict[str, str]) -> str:
        raw = json.dumps({"q": fingerprint, "p": index, "k": key}, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str | None, fingerprint: str, partitions: int) -> tuple[int, dict | None]:
        if not cursor:
            return 0, None
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            index, key = data["p"], data["k"]
            valid = (data["q"] == fingerprint and isinstance(index, int) and 0 <= index < partitions
                     and isinstance(key, dict) and all(isinstance(v, str) for v in key.values()))
        except (ValueError, KeyError, TypeError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidInput("cursor is not one this query returned", field="cursor")
        return index, key

    # -- the member's view --------------------------------------------------------------------------
    def member_feedback(self, member_id: str, limit: int, cursor: str | None) -> FeedbackPage:
        """Newest first: one keys-only GSI3 page, then the items in one batch read."""
        partition = member_partition(member_id)
        request: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": Key("GSI3PK").eq(partition),
                                   "ScanIndexForward": False, "Limit": limit}
        if cursor:
            start = self._decode_member_cursor(cursor, partition)
            request["ExclusiveStartKey"] = start
        response = self._table.query(**request)
        keys = [{"PK": raw["PK"], "SK": raw["SK"]} for raw in response["Items"]]
        found = {item.feedback_id: item for item in self._batch_get(keys)}
        ordered = [found[k["PK"].removeprefix(feedback_pk(""))] for k in keys
                   if k["PK"].removeprefix(feedback_pk("")) in found]
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last:
            raw = json.dumps(last, separators=(",", ":"), ensure_ascii=False)
            next_cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        return FeedbackPage(ordered, next_cursor)

    @staticmethod
    def _decode_member_cursor(cursor: str, partition: str) -> dict[str, str]:
        try:
            key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            valid = (isinstance(key, dict) and set(key) == {"PK", "SK", "GSI3PK", "GSI3SK"}
                     and all(isinstance(v, str) for v in key.values()) and key["GSI3PK"] == partition
                     and key["PK"].startswith(feedback_pk("")) and key["SK"] == ITEM_SK
                     and key["GSI3SK"].endswith("#" + key["PK"].removeprefix(feedback_pk(""))))
        except (ValueError, TypeError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidInput("cursor is not one this query returned", field="cursor")
        return key

    def _batch_get(self, keys: list[dict[str, str]]) -> list[FeedbackItem]:
        items, pending = [], keys
        for _ in range(5):
            if not pending:
                break
            response = self._client.batch_get_item(RequestItems={self._name: {"Keys": pending}})
            items += [self._parse(raw) for raw in response["Responses"].get(self._name, [])]
            pending = response.get("UnprocessedKeys", {}).get(self._name, {}).get("Keys", [])
        if pending:
            raise ConcurrentUpdate("the table is busy; retry")
        return items

    def recent_complaints(self, member_id: str, since: datetime, until: datetime, exclude_feedback_id: str) -> int:
        """The member's other complaints received from `since` to `until`: keys only, counted here (a filter
        may not name the index's own keys), so it reads one small key item per feedback in the window."""
        condition = (Key("GSI3PK").eq(member_partition(member_id))
                     & Key("GSI3SK").between(time_key(since), time_key(until) + "~"))
        own = feedback_pk(exclude_feedback_id)
        return sum(1 for raw in self._query(IndexName="GSI3", KeyConditionExpression=condition)
                   if "#complaint#" in raw["GSI3SK"] and raw["PK"] != own)

    # -- report -------------------------------------------------------------------------------------
    def received_between(self, store_id: str, start: datetime, end: datetime) -> Iterator[FeedbackItem]:
        # Sort keys are "<received_at>#<id>": every key of `end`'s instant sorts after time_key(end).
        condition = Key("GSI2PK").eq(store_partition(store_id)) & Key("GSI2SK").between(time_key(start),
                                                                                     time_key(end))
        for raw in self._query(IndexName="GSI2", KeyConditionExpression=condition):
            yield self._parse(raw)

    # -- configuration ----------------------------------------------------------------------------
    def get_config(self) -> StoredFeedbackConfig | None:
        raw = self._table.get_item(Key=CONFIG_KEY, ConsistentRead=True).get("Item")
        if not raw:
            return None
        raw = plain(raw)
        return StoredFeedbackConfig(config=FeedbackConfig.model_validate(raw["config"]), version=raw["version"],
                                    updated_at=raw.get("updated_at"), updated_by=raw.get("updated_by"))

    def put_config(self, config: FeedbackConfig, *, expected_version: int, at: datetime,
                   by: str) -> StoredFeedbackConfig:
        stored = StoredFeedbackConfig(config=config, version=expected_version + 1, updated_at=at, updated_by=by)
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        if expected_version:
            condition = {"ConditionExpression": "version = :expected",
                         "ExpressionAttributeValues": {":expected": expected_version}}
        try:
            self._table.put_item(Item={**CONFIG_KEY, "entity": "feedback_config", "version": stored.version,
                                       "config": config.model_dump(mode="json"), "updated_at": at.isoformat(),
                                       "updated_by": by}, **condition)
        except self._client.exceptions.ConditionalCheckFailedException:
            raise ConcurrentUpdate(f"the feedback configuration is no longer at version {expected_version}; "
                                   "reload it and apply your change again", field="version") from None
        return stored

    # -- items --------------------------------------------------------------------------------------
    def _query(self, **request) -> Iterator[dict]:
        while True:
            response = self._table.query(**request)
            yield from response["Items"]
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _key(feedback_id: str) -> dict[str, str]:
        return {"PK": feedback_pk(feedback_id), "SK": ITEM_SK}

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    @staticmethod
    def _item(item: FeedbackItem) -> dict[str, Any]:
        return {
            **DynamoFeedbackRepository._key(item.feedback_id),
            "entity": "feedback",
            "GSI1PK": status_partition(item.status),
            "GSI1SK": f"{time_key(item.due_at)}#{item.feedback_id}",
            "GSI2PK": store_partition(item.store_id),
            "GSI2SK": f"{time_key(item.received_at)}#{item.feedback_id}",
            **({"GSI3PK": member_partition(item.member_id), "GSI3SK": member_sort_key(item)} if item.member_id else {}),
            **drop_none(item.model_dump(mode="json")),
        }

    @staticmethod
    def _history_item(entry: FeedbackHistoryEntry) -> dict[str, Any]:
        return {
            "PK": feedback_pk(entry.feedback_id),
            "SK": f"{HISTORY_PREFIX}{time_key(entry.at)}#{entry.version:06d}#{entry.action.value}",
            "entity": "feedback_history",
            **drop_none(entry.model_dump(mode="json")),
        }

    @staticmethod
    def _parse(raw: dict[str, Any]) -> FeedbackItem:
        return FeedbackItem.model_validate(plain(strip_keys(raw)))


# What a member wrote, and what staff wrote to or about them: erasure removes it, the figures stay.
FREE_TEXT_FIELDS = ("text", "reply", "outcome_reason", "resolution_note")
HISTORY_TEXT_FIELDS = ("note", "reply", "reason")


class DynamoFeedbackMemberData:
    """The member's feedback for the members capability: a data export's `feedback` section
    (kernel.ports.MemberDataSource), and erasure of its free text (kernel.ports.MemberDataHolder). Found
    through the member's keys-only GSI3 partition, a page at a time."""

    sections = ("feedback",)
    holds = "feedback_text"

    def __init__(self, table):
        self._table = table
        self._client = table.meta.client

    def member_records(self, member_id: str, section: str) -> Iterator[dict[str, Any]]:
        for key in self._member_keys(member_id):
            raw = self._table.get_item(Key=key).get("Item")
            if raw is None:
                continue
            history = self._table.query(KeyConditionExpression=Key("PK").eq(key["PK"])
                                        & Key("SK").begins_with(HISTORY_PREFIX))["Items"]
            yield {**self._plain(raw), "history": [self._plain(h) for h in history]}

    def forget_member(self, member_id: str) -> int:
        erased = 0
        for key in self._member_keys(member_id):
            history = self._table.query(KeyConditionExpression=Key("PK").eq(key["PK"])
                                        & Key("SK").begins_with(HISTORY_PREFIX),
                                        ProjectionExpression="PK, SK")["Items"]
            for entry in history:
                self._remove(entry, HISTORY_TEXT_FIELDS)
            self._remove(key, FREE_TEXT_FIELDS, mark=True)
            erased += 1
        return erased

    def _remove(self, key: dict[str, str], fields: tuple[str, ...], *, mark: bool = False) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        update = "REMOVE " + ", ".join(names)
        values = {}
        if mark:
            update = "SET text_erased = :yes " + update
            values[":yes"] = True
        request: dict[str, Any] = {"Key": {"PK": key["PK"], "SK": key["SK"]}, "UpdateExpression": update,
                                   "ExpressionAttributeNames": names,
                                   "ConditionExpression": "attribute_exists(PK)"}
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._table.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # gone meanwhile: nothing left to erase

    def _member_keys(self, member_id: str) -> Iterator[dict[str, str]]:
        query: dict[str, Any] = {"IndexName": "GSI3",
                                 "KeyConditionExpression": Key("GSI3PK").eq(member_partition(member_id)),
                                 "Limit": 200}
        while True:
            page = self._table.query(**query)
            for raw in page["Items"]:
                yield {"PK": raw["PK"], "SK": raw["SK"]}
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _plain(raw: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in plain(strip_keys(raw)).items() if k not in INTERNAL_ATTRIBUTES}

