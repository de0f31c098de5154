"""DynamoDB implementation of the settlement ports, and the stream records it reads (docs/table-design.md,
"Settlement").

Counters are sharded: an entry counts in shard `crc32(member_id) % shards` of its day, so the writes of
the busiest hour spread over `shards` items per store instead of queueing on one. The report reads every
shard of every day and adds them up."""
from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from typing import Any, Iterator, Mapping

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer

from loyalty.platform.dynamo import Transaction, plain
from loyalty.settlement.domain import FIGURES, RETURN_EVENT, CounterRow, LedgerFact, StoreCounts

DEFAULT_SHARDS = 8
LEDGER_ENTRY = "ledger_entry"  # the entity of the items the stream consumer reads (points capability)
COUNTER_PREFIX = "SETTLE#"
MARKER_PREFIX = "SETTLED#"
SPENT_FROM = "spent_from#"  # + issuing store: its points spent at the counter's store
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit: the marker and one counter per store the entry touches

_deserializer = TypeDeserializer()


def counter_partition(day: date, shard: int) -> str:
    """A month of one shard's counters: a period's report reads one partition per shard and month."""
    return f"{COUNTER_PREFIX}{day.year:04d}-{day.month:02d}#{shard}"


def counter_key(day: date, shard: int, store_id: str) -> dict[str, str]:
    return {"PK": counter_partition(day, shard), "SK": f"{day.isoformat()}#{store_id}"}


def marker_key(item_key: tuple[str, str]) -> dict[str, str]:
    """The marker of a counted entry, keyed by the entry item's own key."""
    return {"PK": f"{MARKER_PREFIX}{item_key[0]}", "SK": item_key[1]}


def shard_of(member_id: str, shards: int) -> int:
    return zlib.crc32(member_id.encode()) % shards


class EntryAlreadyCounted(Exception):
    """The entry's marker exists: this delivery is a repeat."""


def _already_counted(_old: dict | None) -> None:
    raise EntryAlreadyCounted()


class DynamoSettlementCounters:
    def __init__(self, table, shards: int = DEFAULT_SHARDS):
        if shards < 1:
            raise ValueError("settlement counters need at least one shard")
        self._table = table
        self._client = table.meta.client
        self._name = table.name
        self._shards = shards

    def add(self, entry: LedgerFact, day: date, contribution: Mapping[str, StoreCounts], *,
            marker_until: datetime) -> bool:
        shard = shard_of(entry.member_id, self._shards)
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._name,
            "Item": {**marker_key(entry.item_key), "entity": "settlement_marker", "day": day.isoformat(),
                     "shard": shard, "expires_at": int(marker_until.timestamp())},
            "ConditionExpression": "attribute_not_exists(PK)",
        }}]
        items += [self._count(day, shard, store_id, counts) for store_id, counts in sorted(contribution.items())]
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a ledger entry touching {len(items) - 1} stores exceeds one transaction")
        try:
            Transaction(self._client, items, failures={0: _already_counted}).commit()
        except EntryAlreadyCounted:
            return False
        return True

    def _count(self, day: date, shard: int, store_id: str, counts: StoreCounts) -> dict[str, Any]:
        adds = {name: value for name, value in counts.figures().items() if value}
        adds |= {f"{SPENT_FROM}{store}": value for store, value in counts.spent_from.items() if value}
        names = {"#entity": "entity", "#day": "day", "#store": "store_id", "#shard": "shard"}
        values: dict[str, Any] = {":entity": "settlement_counter", ":day": day.isoformat(), ":store": store_id,
                                  ":shard": shard}
        terms = []
        for index, (attribute, value) in enumerate(sorted(adds.items())):
            names[f"#a{index}"], values[f":a{index}"] = attribute, value
            terms.append(f"#a{index} :a{index}")
        return {"Update": {
            "TableName": self._name,
            "Key": counter_key(day, shard, store_id),
            "UpdateExpression": f"ADD {', '.join(terms)} SET #entity = :entity, #day = :day, #store = :store, "
                                "#shard = :shard",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }}

    def read(self, first: date, last: date) -> Iterator[CounterRow]:
        for month_first in _months(first, last):
            low = max(first, month_first)
            for shard in range(self._shards):
                query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(counter_partition(low, shard))
                                         & Key("SK").between(f"{low.isoformat()}#", f"{last.isoformat()}#~")}
                while True:  # '~' sorts after every store id character, so `last` is read whole
                    page = self._table.query(**query)
                    for item in page["Items"]:
                        yield _row(plain(item))
                    if "LastEvaluatedKey" not in page:
                        break
                    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _months(first: date, last: date) -> Iterator[date]:
    month = date(first.year, first.month, 1)
    while month <= last:
        yield month
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _row(item: dict[str, Any]) -> CounterRow:
    counts = StoreCounts(**{name: int(item.get(name, 0)) for name in FIGURES})
    counts.spent_from = {name[len(SPENT_FROM):]: int(value) for name, value in item.items()
                         if name.startswith(SPENT_FROM)}
    return CounterRow(day=date.fromisoformat(item["day"]), store_id=item["store_id"], counts=counts)


# -- the ledger entries ----------------------------------------------------------------------------------
def ledger_fact(record: dict[str, Any]) -> LedgerFact | None:
    """The ledger entry a DynamoDB stream record (NEW_IMAGE) brings as a new item; None for any other record."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("entity") != {"S": LEDGER_ENTRY}:
        return None
    return fact_of_item({name: _deserializer.deserialize(value) for name, value in image.items()})


def fact_of_item(item: dict[str, Any]) -> LedgerFact:
    """What settlement reads of a ledger entry item (as the points repository writes it)."""
    item = plain(item)
    purchase_store = None
    if item.get("evt_type") == RETURN_EVENT:
        purchase_store = json.loads(item["evt_detail"]).get("store_id")
    return LedgerFact(item_key=(item["PK"], item["SK"]), member_id=item["member_id"], type=item["type"],
                      points=item["points"], debt_change=item.get("debt_change", 0), store_id=item.get("store_id"),
                      origins=item.get("origins"), recorded_at=item["recorded_at"], purchase_store_id=purchase_store)


class DynamoLedgerEntries:
    """Reads one ledger entry by its item key: an operator counts again what the consumer gave up on."""

    def __init__(self, table):
        self._table = table

    def get(self, item_key: tuple[str, str]) -> LedgerFact | None:
        item = self._table.get_item(Key={"PK": item_key[0], "SK": item_key[1]}, ConsistentRead=True).get("Item")
        if item is None or item.get("entity") != LEDGER_ENTRY:
            return None
        return fact_of_item(item)
