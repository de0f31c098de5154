"""DynamoDB adapter of the KPIs (docs/table-design.md, "KPIs").

Daily rows are sharded by member: an event counts in shard `crc32(member) % shards` of its day, so the
busiest hour's purchases spread over `shards` items per group (the chain's row included) instead of
queueing on one. A report reads every shard of every day of the groups it shows."""
from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterator

from boto3.dynamodb.conditions import Key

from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kpis.counting import Contribution, MemberMonth, month_of
from loyalty.kpis.report import DailyRow
from loyalty.platform.dynamo import Transaction, plain
from loyalty.platform.outbox import outbox_puts

DEFAULT_SHARDS = 8
ROW_PREFIX = "KPI#"
TOTALS_PREFIX = "KPITOTALS#"
MEMBER_MONTH_KEPT_DAYS = 400  # a month's marks are needed while its events may still arrive


class EventAlreadyCounted(Exception):
    pass


def _already_counted(_old: dict | None) -> None:
    raise EventAlreadyCounted()


def _member_month_changed(_old: dict | None) -> None:
    raise ConcurrentUpdate("the member's month changed since it was read")


def row_key(day: date, shard: int, dimension: str, value: str) -> dict[str, str]:
    return {"PK": f"{ROW_PREFIX}{month_of(day)}#{shard}", "SK": f"{dimension}#{day.isoformat()}#{value}"}


def member_month_key(member_id: str, month: str) -> dict[str, str]:
    return {"PK": f"KPIMEMBER#{member_id}", "SK": month}


def touched_key(day: date, shard: int, member_id: str) -> dict[str, str]:
    return {"PK": f"RECON#{day.isoformat()}#{shard}", "SK": member_id}


def shard_of(key: str, shards: int) -> int:
    return zlib.crc32(key.encode()) % shards


def _adds(values: dict[str, Any], fixed: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An `ADD a :a, ... SET fixed = :f` expression for counters whose names may hold ':' or '*'."""
    names, bound, terms, sets = {}, {}, [], []
    for index, (name, value) in enumerate(sorted(values.items())):
        names[f"#a{index}"], bound[f":a{index}"] = name, value if isinstance(value, (int, Decimal)) else Decimal(value)
        terms.append(f"#a{index} :a{index}")
    for index, (name, value) in enumerate(sorted(fixed.items())):
        names[f"#f{index}"], bound[f":f{index}"] = name, value
        sets.append(f"#f{index} = :f{index}")
    expression = f"ADD {', '.join(terms)}" + (f" SET {', '.join(sets)}" if sets else "")
    return expression, names, bound


class DynamoKpiAggregates:
    def __init__(self, table, shards: int = DEFAULT_SHARDS):
        self._table = table
        self._client = table.meta.client
        self._name = table.name
        self._shards = shards

    def member_month(self, member_id: str, month: str) -> MemberMonth:
        item = self._table.get_item(Key=member_month_key(member_id, month), ConsistentRead=True).get("Item")
        if item is None:
            return MemberMonth()
        return MemberMonth(marks=set(item.get("marks", [])), orders={k: int(v) for k, v in item.get("orders", {}).items()},
                           version=int(item["version"]))

    def add(self, event_id: str, member_id: str | None, contribution: Contribution, *,
            read: MemberMonth | None, marker_until: datetime) -> bool:
        shard = shard_of(member_id or event_id, self._shards)
        day = contribution.day
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._name,
            "Item": {"PK": f"KPIEVT#{event_id}", "SK": "SEEN", "entity": "kpi_event_marker",
                     "expires_at": int(marker_until.timestamp())},
            "ConditionExpression": "attribute_not_exists(PK)"}}]
        failures = {0: _already_counted}
        for (dimension, value), counters in sorted(contribution.rows.items()):
            counters = {k: v for k, v in counters.items() if v}
            if not counters:
                continue
            expression, names, values = _adds(counters, {"entity": "kpi_row", "dimension": dimension,
                                                         "day": day.isoformat(), "group_value": value})
            items.append({"Update": {"TableName": self._name, "Key": row_key(day, shard, dimension, value),
                                     "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                     "ExpressionAttributeValues": values}})
        if contribution.totals:
            expression, names, values = _adds(contribution.totals, {"entity": "kpi_totals"})
            items.append({"Update": {"TableName": self._name, "Key": {"PK": f"{TOTALS_PREFIX}{shard}", "SK": "TOTALS"},
                                     "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                     "ExpressionAttributeValues": values}})
        if contribution.cohort is not None:  # a cohort's members buying in a month, one counter per month
            enrolled, bought = contribution.cohort
            items.append({"Update": {"TableName": self._name, "Key": {"PK": f"KPICOHORT#{shard}", "SK": enrolled},
                                     "UpdateExpression": "ADD #m :one SET entity = :e",
                                     "ExpressionAttributeNames": {"#m": bought},
                                     "ExpressionAttributeValues": {":one": 1, ":e": "kpi_cohort"}}})
        if contribution.member_month is not None and member_id:
            after = contribution.member_month
            failures[len(items)] = _member_month_changed
            condition = ({"ConditionExpression": "attribute_not_exists(PK)"} if read is None or read.version == 0 else
                         {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": read.version}})
            items.append({"Put": {"TableName": self._name, "Item": {
                **member_month_key(member_id, month_of(day)), "entity": "kpi_member_month",
                "marks": sorted(after.marks), "orders": after.orders,
                "version": (read.version if read else 0) + 1,
                "expires_at": int(marker_until.timestamp()) + MEMBER_MONTH_KEPT_DAYS * 86400}, **condition}})
        if contribution.points_member:
            items.append({"Put": {"TableName": self._name, "Item": {
                **touched_key(day, shard_of(contribution.points_member, self._shards), contribution.points_member),
                "entity": "kpi_touched_member", "expires_at": int(marker_until.timestamp())}}})
        try:
            Transaction(self._client, items, failures=failures).commit()
        except EventAlreadyCounted:
            return False
        return True

    def rows(self, dimension: str, first: date, last: date) -> Iterator[DailyRow]:
        month = date(first.year, first.month, 1)
        while month <= last:
            low = max(first, month)
            for shard in range(self._shards):
                # Up to the day after `last`: no key is that day's bare prefix, and group values may hold any
                # character (cities are named in Chinese), so no sentinel character would do.
                query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(f"{ROW_PREFIX}{month_of(low)}#{shard}")
                                         & Key("SK").between(f"{dimension}#{low.isoformat()}#",
                                                             f"{dimension}#{(last + timedelta(days=1)).isoformat()}#")}
                while True:
                    page = self._table.query(**query)
                    for item in page["Items"]:
                        yield _daily_row(plain(item))
                    if "LastEvaluatedKey" not in page:
                        break
                    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)

    def store_rows(self, store_ids: list[str], first: date, last: date) -> Iterator[DailyRow]:
        """Named stores' rows, by key: days x stores x shards `BatchGetItem` keys, however many stores
        the chain has."""
        keys = [row_key(first + timedelta(days=d), shard, "store", store_id)
                for d in range((last - first).days + 1) for shard in range(self._shards) for store_id in store_ids]
        for start in range(0, len(keys), 100):
            request = {self._name: {"Keys": keys[start:start + 100]}}
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._name, []):
                    yield _daily_row(plain(item))
                request = answer.get("UnprocessedKeys") or {}

    def cohorts(self, months: list[str]) -> dict[str, dict[str, int]]:
        """Enrollment month -> purchase month -> members of the cohort who bought then (8 shards summed)."""
        keys = [{"PK": f"KPICOHORT#{shard}", "SK": month} for month in months for shard in range(self._shards)]
        found: dict[str, dict[str, int]] = {month: {} for month in months}
        for start in range(0, len(keys), 100):
            request = {self._name: {"Keys": keys[start:start + 100]}}
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._name, []):
                    item = plain(item)
                    row = found[item["SK"]]
                    for name, value in item.items():
                        if name not in ("PK", "SK", "entity"):
                            row[name] = row.get(name, 0) + int(value)
                request = answer.get("UnprocessedKeys") or {}
        return found

    def totals(self) -> dict[str, Any]:
        summed: dict[str, Any] = {}
        for shard in range(self._shards):
            item = self._table.get_item(Key={"PK": f"{TOTALS_PREFIX}{shard}", "SK": "TOTALS"}).get("Item")
            for name, value in plain(item or {}).items():
                if name not in ("PK", "SK", "entity"):
                    summed[name] = summed.get(name, 0) + value
        return summed

    def touched_members(self, day: date) -> Iterator[str]:
        for shard in range(self._shards):
            query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(f"RECON#{day.isoformat()}#{shard}")}
            while True:
                page = self._table.query(**query)
                for item in page["Items"]:
                    yield item["SK"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _daily_row(item: dict[str, Any]) -> DailyRow:
    counters = {k: v for k, v in item.items() if k not in ("PK", "SK", "entity", "dimension", "day", "group_value")}
    return DailyRow(day=date.fromisoformat(item["day"]), dimension=item["dimension"], value=item["group_value"],
                    counters=counters)


class DynamoKpiRecords:
    def __init__(self, table):
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    def put_digest(self, month: str, body: dict[str, Any], events: list) -> bool:
        item = {"PK": f"KPIDIGEST#{month}", "SK": "DIGEST", "entity": "kpi_digest", "digest": body}
        items = [{"Put": {"TableName": self._name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                 *outbox_puts(self._name, events)]
        try:
            Transaction(self._client, items, failures={0: _already_counted}).commit()
        except EventAlreadyCounted:
            return False
        return True

    def get_digest(self, month: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"PK": f"KPIDIGEST#{month}", "SK": "DIGEST"}).get("Item")
        return plain(item["digest"]) if item else None

    def put_reconciliation(self, day: date, body: dict[str, Any], events: list) -> None:
        item = {"PK": f"RECONCILIATION#{day.isoformat()}", "SK": "RESULT", "entity": "reconciliation", "result": body}
        puts = outbox_puts(self._name, events)
        for start in range(0, max(len(puts), 1), 99):  # a transaction holds 100 items: the result and 99 events
            chunk = [{"Put": {"TableName": self._name, "Item": item}}] if start == 0 else []
            Transaction(self._client, chunk + puts[start:start + 99]).commit()

    def get_reconciliation(self, day: date) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"PK": f"RECONCILIATION#{day.isoformat()}", "SK": "RESULT"}).get("Item")
        return plain(item["result"]) if item else None
