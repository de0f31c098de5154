"""The single-table design's keys (see docs/table-design.md) and transaction helpers."""
from __future__ import annotations

import time
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterator

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.kernel.idempotency import IdempotencyClaim, replay_or_conflict

_deserializer = TypeDeserializer()

PROFILE = "PROFILE"
CLAIM = "CLAIM"


def member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


def claim_key(kind: str, value: str) -> dict[str, str]:
    return {"PK": f"{kind}#{value}", "SK": CLAIM}


def idempotency_key(scope: str, key: str) -> dict[str, str]:
    return {"PK": f"IDEMPOTENCY#{scope}#{key}", "SK": CLAIM}


def epoch_seconds(day: date) -> int:
    """A TTL attribute's value: the start of `day` in UTC, in epoch seconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "entity"}}


# Bookkeeping a member's data export leaves out: replay answers, request hashes, events and TTLs.
INTERNAL_ATTRIBUTES = frozenset({"request_hash", "response", "returns", "version", "expires_at", "evt_id",
                                 "evt_source", "evt_type", "evt_at", "evt_detail"})
EXPORT_PAGE = 200  # items per Query while exporting: memory stays bounded whatever the history


def member_items(table, member_id: str, sk_prefix: str) -> Iterator[dict[str, Any]]:
    """Every item of the member whose SK starts with `sk_prefix`, oldest key first, page by page, as plain
    data without keys or bookkeeping: what a capability hands to a member's data export."""
    from boto3.dynamodb.conditions import Key

    query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(member_pk(member_id))
                             & Key("SK").begins_with(sk_prefix), "Limit": EXPORT_PAGE}
    while True:
        page = table.query(**query)
        for item in page["Items"]:
            yield {k: v for k, v in plain(strip_keys(item)).items() if k not in INTERNAL_ATTRIBUTES}
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: drop_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [drop_none(v) for v in data]
    return data


def plain(item: Any) -> Any:
    """DynamoDB numbers come back as Decimal; integral ones become int for pydantic and JSON."""
    from decimal import Decimal

    if isinstance(item, dict):
        return {k: plain(v) for k, v in item.items()}
    if isinstance(item, list):
        return [plain(v) for v in item]
    if isinstance(item, Decimal) and item == item.to_integral_value():
        return int(item)
    return item


def conditioned_on_version(put: dict[str, Any], version_read: int) -> dict[str, Any]:
    """Make a Put optimistic: the stored item must still have the version that was read
    (0: nothing was stored yet, so the item must not exist)."""
    if version_read == 0:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "#v = :v"
        put["ExpressionAttributeNames"] = {"#v": "version"}
        put["ExpressionAttributeValues"] = {":v": version_read}
    return put


def idempotency_put(table_name: str, claim: IdempotencyClaim) -> dict[str, Any]:
    item = {
        **idempotency_key(claim.scope, claim.key),
        "entity": "idempotency",
        "request_hash": claim.request_hash,
        "response": claim.response,  # nulls kept: a replay must return the original response, key for key
    }
    if claim.expires_at is not None:
        item["expires_at"] = claim.expires_at
    return {
        "Put": {
            "TableName": table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


# Cancellation reasons: "None" marks the items that did not fail.
RETRYABLE_REASONS = {None, "None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError",
                     "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


class TransactionRejected(RuntimeError):
    """DynamoDB refused the transaction for a reason no retry fixes (validation, item size...)."""


class Transaction:
    """Runs TransactWriteItems and turns cancellation reasons into typed outcomes.

    `failures` maps an item index to a callable raising the domain error for that item's failed
    condition. An idempotency claim placed at `claim_index` turns into a replay or a key-reuse error.
    Conflicts with concurrent transactions are retried a few times, then surface as ConcurrentUpdate.
    """

    MAX_ATTEMPTS = 4

    def __init__(self, client, items: list[dict[str, Any]], *, claim: IdempotencyClaim | None = None,
                 claim_index: int | None = None, failures: dict[int, Callable[[dict | None], None]] | None = None,
                 replay: Callable[[dict], dict] | None = None):
        self._client = client
        self._items = items
        self._claim = claim
        self._claim_index = claim_index
        self._failures = failures or {}
        self._replay = replay  # the answer a claim item found in place replays; default: its `response`

    def commit(self) -> None:
        for attempt in range(self.MAX_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=self._items)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                self._raise_for(reasons)
                if attempt + 1 < self.MAX_ATTEMPTS:
                    time.sleep(0.02 * (2**attempt))
        raise ConcurrentUpdate("the record changed concurrently; retry the request")

    def _raise_for(self, reasons: list[dict[str, Any]]) -> None:
        """Raise the domain error for a failed condition; return when only conflicts or throttling
        cancelled it (worth retrying). Any other reason is a defect and surfaces as it is."""
        unexpected = [r.get("Code") for r in reasons if r.get("Code") not in RETRYABLE_REASONS]
        if unexpected:
            raise TransactionRejected(f"transaction cancelled: {unexpected}")
        for index, reason in enumerate(reasons):
            if reason.get("Code") != "ConditionalCheckFailed":
                continue
            old = reason.get("Item")
            old_item = {k: _deserializer.deserialize(v) for k, v in old.items()} if old else None
            if self._claim is not None and index == self._claim_index:
                if old_item is None:
                    old_item = self._read_claim()
                if old_item is not None:
                    old_item = plain(old_item)
                    response = self._replay(old_item) if self._replay else old_item["response"]
                    raise replay_or_conflict(old_item["request_hash"], response, self._claim)
                continue  # claim vanished (expired) between attempts: retry
            handler = self._failures.get(index)
            if handler is not None:
                handler(plain(old_item) if old_item else None)
            raise ConcurrentUpdate("a condition on the record no longer holds; retry the request")

    def _read_claim(self) -> dict | None:
        put = self._items[self._claim_index]["Put"]
        key = {"PK": put["Item"]["PK"], "SK": put["Item"]["SK"]}
        return self._client.get_item(TableName=put["TableName"], Key=key, ConsistentRead=True).get("Item")


class CachedVersionedDocument:
    """One back-office document (the program rules, the tier ladder): an item under `PROGRAM` read through
    a per-container cache of `ttl_seconds` (a change reaches every container within it), replaced only
    from the version read, each version also kept as `<SK>#v<version>` for audit.

    A subclass names `SK`, the `ATTRIBUTE` holding the body and the `ENTITY`, and says how a body becomes
    its model (`parse`), what stands when nothing was saved (`default`) and what a stale save raises
    (`conflict`)."""

    SK: str
    ATTRIBUTE: str
    ENTITY: str

    def __init__(self, table, ttl_seconds: float = 60.0):
        self._table = table
        self._ttl = ttl_seconds
        self._cached: Any = None
        self._loaded_at = 0.0

    @property
    def KEY(self) -> dict[str, str]:  # noqa: N802 - the item's key, as the repositories named it
        return {"PK": "PROGRAM", "SK": self.SK}

    def parse(self, body: dict[str, Any], version: int) -> Any:
        raise NotImplementedError

    def default(self) -> Any:
        raise NotImplementedError

    def conflict(self, version_read: int) -> Exception:
        raise NotImplementedError

    def current(self) -> Any:
        if self._cached is not None and time.monotonic() - self._loaded_at < self._ttl:
            return self._cached
        item = self._table.get_item(Key=self.KEY).get("Item")
        document = self.default() if item is None else self.parse(plain(item[self.ATTRIBUTE]), int(item["version"]))
        self._cached, self._loaded_at = document, time.monotonic()
        return document

    def replace(self, document: Any, *, changed_by: str, at: datetime) -> Any:
        """Store `document` (carrying the version it was read at) as the next version."""
        stored = self.parse(document.model_dump(exclude={"version"}), document.version + 1)
        body = stored.model_dump(mode="json", exclude={"version"})
        audit = {"updated_at": at.isoformat(), "updated_by": changed_by}
        put: dict[str, Any] = {"TableName": self._table.name,
                               "Item": {**self.KEY, "entity": self.ENTITY, "version": stored.version,
                                        self.ATTRIBUTE: body, **audit}}
        conditioned_on_version(put, document.version)
        history = {"PK": "PROGRAM", "SK": f"{self.SK}#v{stored.version:06d}", "entity": f"{self.ENTITY}_version",
                   "version": stored.version, self.ATTRIBUTE: body, **audit}

        def moved_on(_old):
            raise self.conflict(document.version)

        Transaction(self._table.meta.client, [
            {"Put": put},
            {"Put": {"TableName": self._table.name, "Item": history, "ConditionExpression": "attribute_not_exists(PK)"}},
        ], failures={0: moved_on, 1: moved_on}).commit()
        self._cached, self._loaded_at = stored, time.monotonic()
        return stored

