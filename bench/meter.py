"""Counts what an operation costs in DynamoDB: calls, consumed capacity as the server reports it,
items and bytes read and written. Attach it to the boto3 client the adapters use."""
from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

CAPACITY_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                       "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}


@dataclass
class Measurement:
    calls: Counter = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    items_read: int = 0
    items_written: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "calls": dict(self.calls), "total_calls": sum(self.calls.values()),
            "RCU": round(self.read_units, 2), "WCU": round(self.write_units, 2),
            "items_read": self.items_read, "items_written": self.items_written,
            "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
            "ms": round(self.seconds * 1000, 2),
        }


class DynamoMeter:
    def __init__(self, client):
        self._current: Measurement | None = None
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
            measurement.seconds = time.perf_counter() - started
            self._current = None

    def _ask_for_capacity(self, params, model, **_):
        if model.name in CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        if self._current is None:
            return
        if model.name == "TransactWriteItems":
            self._current.items_written += sum(1 for i in params["TransactItems"] if "ConditionCheck" not in i)
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self._current.items_written += 1
        elif model.name == "BatchWriteItem":
            self._current.items_written += sum(len(v) for v in params["RequestItems"].values())

    def _on_send(self, request, **_):
        if self._current is not None and request.body:
            self._current.bytes_sent += len(request.body)

    def _on_response(self, http_response, parsed, model, **_):
        current = self._current
        if current is None:
            return
        current.calls[model.name] += 1
        current.bytes_received += len(http_response.content or b"")
        capacity = parsed.get("ConsumedCapacity")
        for entry in capacity if isinstance(capacity, list) else [capacity] if capacity else []:
            current.read_units += entry.get("ReadCapacityUnits", 0) or 0
            current.write_units += entry.get("WriteCapacityUnits", 0) or 0
            if not entry.get("ReadCapacityUnits") and not entry.get("WriteCapacityUnits"):
                units = entry.get("CapacityUnits", 0) or 0
                if model.name in ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"):
                    current.read_units += units
                else:
                    current.write_units += units
        if "Item" in parsed:
            current.items_read += 1
        current.items_read += len(parsed.get("Items", []))
        for responses in (parsed.get("Responses") or {}).values() if isinstance(parsed.get("Responses"), dict) else []:
            current.items_read += len(responses)
