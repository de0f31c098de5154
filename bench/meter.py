"""Counts what an operation costs in DynamoDB. Attach a `DynamoMeter` to the boto3 client the adapters
use; inside `with meter.measure() as m:` it records, from the requests and responses on the wire:

- calls per DynamoDB operation, bytes sent and received, time;
- keys read (keys asked for by GetItem, BatchGetItem and TransactGetItems, found or not) and items
  written (Put, Update and Delete, in a transaction or not; a ConditionCheck writes nothing);
- capacity as DynamoDB Local reports it (`ReturnConsumedCapacity`, which the meter asks for);
- capacity as DynamoDB bills it, computed here from item sizes (`Measurement.charges` lists each item).

How the billed figure is computed (DynamoDB's published rules, see `item_size`):
- an item's size is the sum over its attributes of the name's UTF-8 length plus the value's size;
- a write costs 1 WCU per KB (1,024 bytes) of the item, rounded up per item, at least 1; in a
  transaction twice that. The size is the larger of the item before and after the write: the meter
  reads the item before (and, for an Update, after) through a client of its own, outside the timing;
- a read costs 1 RCU per 4 KB of the item, rounded up per item, at least 1, when strongly consistent,
  half that when eventually consistent, twice that in a transaction; a key not found costs the minimum;
- a Query or Scan costs the sum of the sizes of the items it returns, rounded up to 4 KB once, at least
  the minimum. (DynamoDB bills the items it reads before any filter, and whole items under a projection:
  the meter sees only what comes back, so a filtered or projected Query would be under-counted; the
  points operations use neither.) A GetItem with a projection is billed on the whole item, read again;
- a call that fails (a cancelled transaction, a failed condition) is counted as a call, not billed.

One measurement at a time, from one thread."""
from __future__ import annotations

import base64
import json
import math
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

CAPACITY_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                       "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}
READ_OPERATIONS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
KB, READ_BLOCK = 1024, 4096


# -- item size ----------------------------------------------------------------------------------------
def _blob_size(value: str | bytes) -> int:
    return len(value) if isinstance(value, (bytes, bytearray)) else len(base64.b64decode(value))


def number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 (leading and trailing zeros do not count)."""
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's wire format ({"S": ...}, {"N": ...}, {"M": ...}...)."""
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return _blob_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(_blob_size(b) for b in data)
    if kind == "L":  # 3 bytes of overhead, 1 byte per element
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(element) for name, element in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict] | None) -> int:
    """Bytes DynamoDB counts for an item: per attribute, the name's UTF-8 length plus the value's size."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int, transactional: bool) -> float:
    return max(1, math.ceil(size / KB)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return blocks * 2 if transactional else blocks * (1 if consistent else 0.5)


# -- measurement --------------------------------------------------------------------------------------
@dataclass
class Charge:
    """One billed item (or one Query's page of items)."""

    operation: str  # e.g. "TransactWriteItems/Put", "BatchGetItem (consistent)"
    key: str
    size: int       # bytes billed on
    units: float
    write: bool


@dataclass
class Measurement:
    calls: Counter = field(default_factory=Counter)
    keys_read: int = 0
    items_found: int = 0
    items_written: int = 0
    billed_read_units: float = 0.0
    billed_write_units: float = 0.0
    reported_read_units: float = 0.0
    reported_write_units: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    metering_seconds: float = 0.0  # spent in the meter's own reads, taken out of `seconds`
    charges: list[Charge] = field(default_factory=list)

    @property
    def billed_units(self) -> float:
        return self.billed_read_units + self.billed_write_units

    def charge(self, operation: str, key: str, size: int, units: float, *, write: bool) -> None:
        self.charges.append(Charge(operation, key, size, units, write))
        if write:
            self.billed_write_units += units
        else:
            self.billed_read_units += units

    def summary(self) -> dict:
        return {
            "calls": dict(self.calls), "total_calls": sum(self.calls.values()),
            "keys_read": self.keys_read, "items_found": self.items_found, "items_written": self.items_written,
            "billed_RCU": self.billed_read_units, "billed_WCU": self.billed_write_units,
            "reported_RCU": round(self.reported_read_units, 2), "reported_WCU": round(self.reported_write_units, 2),
            "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
            "ms": round(self.seconds * 1000, 2),
        }


def _key_text(key: dict[str, dict]) -> str:
    return " / ".join(str(next(iter(value.values()))) for _name, value in sorted(key.items()))


def _key_tuple(key: dict[str, dict]) -> tuple:
    return tuple(sorted((name, json.dumps(value, sort_keys=True)) for name, value in key.items()))


class DynamoMeter:
    def __init__(self, client):
        self._current: Measurement | None = None
        self._request: tuple[str, dict] | None = None
        self._before: dict[tuple, int] = {}  # item sizes before the write being sent
        self._key_names: dict[str, list[str]] = {}
        # The meter's own reads (item sizes) go through a client of their own, which nothing measures.
        self._reader = boto3.session.Session().client(
            "dynamodb", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name)
        events = client.meta.events
        events.register("before-parameter-build.dynamodb.*", self._ask_for_capacity)
        events.register("before-send.dynamodb.*", self._on_send)
        events.register("after-call.dynamodb.*", self._on_response)

    @contextmanager
    def measure(self):
        measurement = Measurement()
        self._current = measurement
        started = time.perf_counter()
        try:
            yield measurement
        finally:
            measurement.seconds = time.perf_counter() - started - measurement.metering_seconds
            self._current = None

    # -- the meter's own reads, outside the timing ---------------------------------------------------
    def _stored_size(self, table: str, key: dict[str, dict]) -> int:
        started = time.perf_counter()
        try:
            item = self._reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            return item_size(item)
        finally:
            if self._current is not None:
                self._current.metering_seconds += time.perf_counter() - started

    def _key_of(self, table: str, item: dict[str, dict]) -> dict[str, dict]:
        if table not in self._key_names:
            started = time.perf_counter()
            schema = self._reader.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [k["AttributeName"] for k in schema]
            if self._current is not None:
                self._current.metering_seconds += time.perf_counter() - started
        return {name: item[name] for name in self._key_names[table]}

    # -- hooks -----------------------------------------------------------------------------------------
    def _ask_for_capacity(self, params, model, **_):
        if model.name in CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _on_send(self, request, **_):
        current = self._current
        if current is None:
            return
        body = request.body or b""
        current.bytes_sent += len(body)
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        params = json.loads(body) if body else {}
        self._request = (operation, params)
        self._before = {}
        for table, key in self._written_keys(operation, params):
            self._before[(table, _key_tuple(key))] = self._stored_size(table, key)

    def _written_keys(self, operation: str, params: dict):
        """(table, key) of every item a write touches, to read its size before the write."""
        if operation == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                (kind, spec), = action.items()
                yield spec["TableName"], spec["Key"] if "Key" in spec else self._key_of(spec["TableName"], spec["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            yield params["TableName"], params["Key"]
        elif operation == "PutItem":
            yield params["TableName"], self._key_of(params["TableName"], params["Item"])
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        yield table, self._key_of(table, request["PutRequest"]["Item"])
                    else:
                        yield table, request["DeleteRequest"]["Key"]

    def _on_response(self, http_response, parsed, model, **_):
        current = self._current
        if current is None:
            return
        current.calls[model.name] += 1
        content = http_response.content or b""
        current.bytes_received += len(content)
        self._reported(current, model.name, parsed)
        request, self._request = self._request, None
        if request is None or http_response.status_code != 200:
            return  # failed calls are counted, not billed
        operation, params = request
        response = json.loads(content) if content else {}
        self._bill(current, operation, params, response)

    @staticmethod
    def _reported(current: Measurement, operation: str, parsed: dict) -> None:
        capacity = parsed.get("ConsumedCapacity")
        for entry in capacity if isinstance(capacity, list) else [capacity] if capacity else []:
            current.reported_read_units += entry.get("ReadCapacityUnits", 0) or 0
            current.reported_write_units += entry.get("WriteCapacityUnits", 0) or 0
            if not entry.get("ReadCapacityUnits") and not entry.get("WriteCapacityUnits"):
                units = entry.get("CapacityUnits", 0) or 0
                if operation in READ_OPERATIONS:
                    current.reported_read_units += units
                else:
                    current.reported_write_units += units

    # -- billing ---------------------------------------------------------------------------------------
    def _bill(self, m: Measurement, operation: str, params: dict, response: dict) -> None:
        if operation == "GetItem":
            self._bill_get(m, operation, params["TableName"], params, response.get("Item"),
                           consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            unprocessed = response.get("UnprocessedKeys") or {}
            for table, spec in params.get("RequestItems", {}).items():
                left = {_key_tuple(k) for k in (unprocessed.get(table) or {}).get("Keys", [])}
                keys = [k for k in spec["Keys"] if _key_tuple(k) not in left]
                names = list(keys[0]) if keys else []
                found = {_key_tuple({n: item[n] for n in names}): item
                         for item in (response.get("Responses") or {}).get(table, [])}
                consistent = bool(spec.get("ConsistentRead"))
                for key in keys:
                    self._bill_get(m, f"BatchGetItem{' (consistent)' if consistent else ''}", table, spec,
                                   found.get(_key_tuple(key)), consistent=consistent, key=key)
        elif operation == "TransactGetItems":
            responses = response.get("Responses") or []
            for index, action in enumerate(params.get("TransactItems", [])):
                spec = action["Get"]
                item = responses[index].get("Item") if index < len(responses) else None
                self._bill_get(m, "TransactGetItems", spec["TableName"], spec, item, consistent=True,
                               transactional=True, key=spec["Key"])
        elif operation in ("Query", "Scan"):
            items = response.get("Items", [])
            m.items_found += len(items)
            size = sum(item_size(i) for i in items)
            consistent = bool(params.get("ConsistentRead"))
            m.charge(f"{operation} ({len(items)} items)", params.get("IndexName", params["TableName"]), size,
                     read_units(size, consistent=consistent), write=False)
        elif operation == "PutItem":
            self._bill_write(m, "PutItem", params["TableName"], self._key_of(params["TableName"], params["Item"]),
                             after=item_size(params["Item"]), transactional=False)
        elif operation == "UpdateItem":
            self._bill_write(m, "UpdateItem", params["TableName"], params["Key"], after=None, transactional=False)
        elif operation == "DeleteItem":
            self._bill_write(m, "DeleteItem", params["TableName"], params["Key"], after=0, transactional=False)
        elif operation == "BatchWriteItem":
            unprocessed = response.get("UnprocessedItems") or {}
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if request in unprocessed.get(table, []):
                        continue
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        self._bill_write(m, "BatchWriteItem/Put", table, self._key_of(table, item),
                                         after=item_size(item), transactional=False)
                    else:
                        self._bill_write(m, "BatchWriteItem/Delete", table, request["DeleteRequest"]["Key"],
                                         after=0, transactional=False)
        elif operation == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                (kind, spec), = action.items()
                table = spec["TableName"]
                if kind == "Put":
                    self._bill_write(m, "TransactWriteItems/Put", table, self._key_of(table, spec["Item"]),
                                     after=item_size(spec["Item"]), transactional=True)
                elif kind == "Update":
                    self._bill_write(m, "TransactWriteItems/Update", table, spec["Key"], after=None,
                                     transactional=True)
                elif kind == "Delete":
                    self._bill_write(m, "TransactWriteItems/Delete", table, spec["Key"], after=0, transactional=True)
                else:  # ConditionCheck: billed here as a transactional write of the item read; writes nothing
                    self._bill_write(m, "TransactWriteItems/ConditionCheck", table, spec["Key"], after=0,
                                     transactional=True, counts=False)

    def _bill_get(self, m: Measurement, operation: str, table: str, spec: dict, item: dict | None, *,
                  consistent: bool, transactional: bool = False, key: dict | None = None) -> None:
        key = key if key is not None else spec["Key"]
        m.keys_read += 1
        if item is not None:
            m.items_found += 1
            projected = "ProjectionExpression" in spec or "AttributesToGet" in spec
            size = self._stored_size(table, key) if projected else item_size(item)  # billed on the whole item
        else:
            size = 0  # not found: the minimum
        m.charge(operation if item is not None else f"{operation}, not found", _key_text(key), size,
                 read_units(size, consistent=consistent, transactional=transactional), write=False)

    def _bill_write(self, m: Measurement, operation: str, table: str, key: dict, *, after: int | None,
                    transactional: bool, counts: bool = True) -> None:
        before = self._before.get((table, _key_tuple(key)), 0)
        if after is None:  # an Update: the item as it is now
            after = self._stored_size(table, key)
        size = max(before, after)
        if counts:
            m.items_written += 1
        m.charge(operation, _key_text(key), size, write_units(size, transactional), write=True)
