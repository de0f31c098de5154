"""EventBridge implementation of EventPublisher."""
from __future__ import annotations

import json

from loyalty.kernel.events import DomainEvent


class EventPublishFailed(RuntimeError):
    pass


class EventBridgePublisher:
    BATCH = 10  # PutEvents accepts at most ten entries per call

    def __init__(self, client, bus_name: str):
        self._client = client
        self._bus = bus_name

    def publish(self, events: list[DomainEvent]) -> None:
        for start in range(0, len(events), self.BATCH):
            chunk = events[start:start + self.BATCH]
            response = self._client.put_events(Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": event.source,
                    "DetailType": event.detail_type,
                    "Detail": json.dumps(event.envelope(), default=str),
                    "Time": event.occurred_at,
                }
                for event in chunk
            ])
            if response.get("FailedEntryCount"):
                failed = [e.get("ErrorCode") for e in response["Entries"] if e.get("ErrorCode")]
                raise EventPublishFailed(f"EventBridge rejected {len(failed)} event(s): {failed}")
