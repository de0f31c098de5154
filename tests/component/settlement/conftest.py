"""Fixtures for the settlement tests: members earn through the points capability; spending is written
as the redemption and points-payment operations write it (the ledger's BalanceDraft, committed through
the points repository); the counter is fed the stream records of the new ledger entries, as the table's
stream delivers them."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Key

import settlement_counter
import settlement_report
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import PurchaseRequest
from loyalty.points.ledger import BalanceDraft, EntryType, Reference, Taken
from loyalty.points.ports import WritePlan
from loyalty.settlement.dynamo import COUNTER_PREFIX
from tests.component.points.conftest import enroll
from tests.component.stream_records import batch, stream_record
from tests.conftest import BACKOFFICE, LambdaContext, api_event, response_json

SHARDS = 4
REPORT = "/v1/reports/settlement"
_ids = itertools.count(1)


class Ledger:
    """Writes ledger entries the way the points operations do, and hands out their stream records."""

    def __init__(self, services):
        self.services = services
        self.repo = services.points_repository
        self._seen: set[tuple[str, str]] = set()
        self._members: list[str] = []

    def member(self) -> str:
        member_id = enroll(self.services)
        self._members.append(member_id)
        return member_id

    def purchase(self, member_id: str, store_id: str, amount: str) -> int:
        now = self.services.clock.now()
        request = PurchaseRequest.model_validate({
            "order_id": f"O-{next(_ids):06d}", "store_id": store_id, "channel": "pos",
            "occurred_at": (now - timedelta(minutes=10)).isoformat(), "currency": "CNY", "payment_method": "cash",
            "total": amount, "lines": [{"sku": "SKU-1", "category": "apparel", "quantity": 1, "unit_price": amount,
                                        "amount": amount}]})
        outcome = self.services.points_service.earn_purchase(member_id, request, ClientIdentity.from_context(BACKOFFICE))
        return outcome.result.points

    def _commit(self, member_id: str, change) -> object:
        snap = self.repo.load(member_id)
        draft = BalanceDraft(snap.balance, rules=self.services.program_rules.current(), now=self.services.clock.now())
        done = change(draft)
        self.repo.commit(WritePlan(balance_before=snap.balance, balance_after=draft.finish(), entries=draft.entries))
        return done

    def redeem(self, member_id: str, points: int, store_id: str) -> Taken:
        reference = Reference(kind="redemption", id=f"RD-{next(_ids):06d}")
        return self._commit(member_id, lambda d: d.spend(points, entry_type=EntryType.REDEMPTION, reference=reference,
                                                         reason="reward", store_id=store_id))

    def cancel(self, member_id: str, taken: Taken, store_id: str) -> None:
        reference = Reference(kind="redemption", id=f"RD-{next(_ids):06d}")
        self._commit(member_id, lambda d: d.give_back(taken, entry_type=EntryType.REDEMPTION_CANCEL,
                                                      reference=reference, reason="cancelled", store_id=store_id))

    def pay(self, member_id: str, points: int, store_id: str) -> Taken:
        """A points payment at the till: reserved, then captured when the order completes."""
        reference = Reference(kind="points_payment", id=f"PP-{next(_ids):06d}")
        held = self._commit(member_id, lambda d: d.reserve(points, reference=reference, reason="hold",
                                                           store_id=store_id))
        self._commit(member_id, lambda d: d.capture(held, reference=reference, reason="paid", store_id=store_id))
        return held

    def items(self) -> list[dict]:
        """The ledger entry items written since the last call, in the order they were written."""
        found = []
        for member_id in self._members:
            query = {"KeyConditionExpression": Key("PK").eq(f"MEMBER#{member_id}") & Key("SK").begins_with("LEDGER#")}
            for item in self.services.table.query(**query)["Items"]:
                if (item["PK"], item["SK"]) not in self._seen:
                    self._seen.add((item["PK"], item["SK"]))
                    found.append(item)
        return sorted(found, key=lambda i: (i["recorded_at"], i["PK"], i["SK"]))

    def records(self) -> list[dict]:
        return [stream_record(item) for item in self.items()]


@pytest.fixture
def ledger(services) -> Ledger:
    services.settlement_shards = SHARDS  # in place of the setting, before the counters are first built
    return Ledger(services)


def count(*records: dict) -> dict:
    """The consumer's answer to one batch."""
    return settlement_counter.handler(batch(*records), LambdaContext())


def report(query: dict, client: dict = BACKOFFICE) -> tuple[int, dict]:
    response = settlement_report.handler(api_event("GET", REPORT, query=query, client=client), LambdaContext())
    return response["statusCode"], response_json(response)


def by_store(body: dict) -> dict[str, dict]:
    return {s["store_id"]: s for s in body["stores"]}


def positions(store: dict) -> dict[str, tuple[int, int, int, str]]:
    return {p["counterparty"]: (p["receivable_points"], p["payable_points"], p["net_points"], p["net_amount"])
            for p in store["positions"]}


def counter_items(services) -> list[dict]:
    items, start = [], None
    while True:
        page = services.table.scan(**({"ExclusiveStartKey": start} if start else {}))
        items += [i for i in page["Items"] if str(i["PK"]).startswith(COUNTER_PREFIX)]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def money(value: str) -> Decimal:
    return Decimal(value)
