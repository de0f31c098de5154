"""DynamoDB implementation of the points ports (see docs/table-design.md, "Points").

Every table call of the points feature goes through these classes, so a test or a benchmark can count
them by wrapping `table` and `table.meta.client`."""
from __future__ import annotations

import time
import zlib
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterator, Mapping

from boto3.dynamodb.conditions import Attr, Key

from loyalty.platform.dynamo import (
    INTERNAL_ATTRIBUTES, PROFILE, CachedVersionedDocument, Transaction, conditioned_on_version, drop_none, epoch_seconds, idempotency_key, idempotency_put,
    member_items, member_pk, plain, strip_keys,
)
from loyalty.platform.cursor import decode_cursor, encode_cursor
from loyalty.platform.outbox import event_fields, outbox_puts
from loyalty.platform.stores import CachedStoreDirectory, DynamoStoreDirectory
from loyalty.kernel.errors import InvalidInput, MemberErased
from loyalty.kernel.idempotency import IdempotencyClaim, replay_or_conflict
from loyalty.points.errors import ActivityCapReached, RulesVersionConflict
from loyalty.kernel.ports import StoreDirectory
from loyalty.kernel.spending import JoinedRead
from loyalty.points.entries import LedgerEntry
from loyalty.points.ledger import PointsBalance
from loyalty.points.ports import (
    CounterIncrement, MemberFacts, PendingLot, PointsPaymentRecord, PurchaseRecord, Snapshot, StaleSnapshot,
    StoredClaim, WritePlan,
)
from loyalty.points.program import ProgramRules, ProgramRulesInput, default_rules

BALANCE = "POINTS"
LEDGER = "LEDGER#"
ACTIVATION_SHARDS = 8  # pending lots of one activation date spread over this many GSI1 partitions
EXPIRY_SHARDS = 16  # balances of one expiry check day spread over this many GSI3 partitions
EXPIRY_INDEX = "GSI3"
# Per-line guards on a return fit DynamoDB's 4 KB expression limit up to this many changed lines;
# beyond it the purchase's version condition alone guards the write (it covers every line).
LINE_GUARDS = 60


def balance_key(member_id: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": BALANCE}


def ledger_key(member_id: str, seq: int) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"{LEDGER}{seq:012d}"}


class DynamoLedgerBooks:
    """A member's books as stored, for the reconciliation: the balance item and the newest ledger entries."""

    PAGE = 50

    def __init__(self, table):
        self._table = table

    def books(self, member_id: str, since: datetime) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The balance, and the ledger entries recorded since `since` plus the one before them, oldest
        first: newest first from the end of the ledger until an entry older than `since`."""
        balance = self._table.get_item(Key=balance_key(member_id), ConsistentRead=True).get("Item")
        query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(member_pk(member_id))
                                 & Key("SK").begins_with(LEDGER), "ScanIndexForward": False, "Limit": self.PAGE,
                                 "ConsistentRead": True}
        entries: list[dict[str, Any]] = []
        while True:
            page = self._table.query(**query)
            for item in page["Items"]:
                entries.append(plain(item))
                if datetime.fromisoformat(item["recorded_at"]) < since:
                    return (plain(balance) if balance else None), entries[::-1]
            if "LastEvaluatedKey" not in page:
                return (plain(balance) if balance else None), entries[::-1]
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def purchase_key(store_id: str, order_id: str) -> dict[str, str]:
    """A purchase is keyed by its business key alone: the record is also the purchase's idempotency
    claim (one item, not two), and a return finds it from the store and order it names."""
    return {"PK": f"PURCHASE#{store_id}#{order_id}", "SK": "PURCHASE"}


PURCHASE_CLAIM_SCOPE = "purchase:"  # claims with this scope live on the purchase record they guard
RETURN_CLAIM_SCOPE = "return:"  # ...and a return's claim in the `returns` map of the purchase it returns


def return_claim_field(scope: str, key: str) -> str:
    return f"{scope[len(RETURN_CLAIM_SCOPE):]}#{key}"  # <returning store>#<return id>


# A stored replay keeps only what its purchase record cannot give back: a replay is the record's
# part of the answer plus the stored rest. Only what the record gives back equal is left out, so the
# replay answers the original byte for byte (an answer stored whole replays as it is).
def _purchase_part(record: dict[str, Any]) -> dict[str, Any]:
    return {"member_id": record["member_id"], "order_id": record["order_id"], "store_id": record["store_id"],
            # the record's JSON time (UTC as "Z") as the answer writes it (isoformat: "+00:00")
            "occurred_at": datetime.fromisoformat(record["occurred_at"]).isoformat(),
            "points": record["points"], "rules_version": record["rules_version"],
            "lines": [{"sku": line["sku"], "quantity": line["quantity"], "points": line["points"]}
                      for line in record["lines"]]}


def _return_part(record: dict[str, Any], claim_field: str) -> dict[str, Any]:
    returning_store_id, return_id = claim_field.split("#", 1)  # store ids have no '#'
    return {"member_id": record["member_id"], "order_id": record["order_id"], "store_id": record["store_id"],
            "returning_store_id": returning_store_id, "return_id": return_id}


def _rest(answer: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in answer.items() if name not in part or part[name] != value}


def purchase_replay(record: dict[str, Any]) -> dict[str, Any]:
    """The answer a purchase record replays (`record` as stored, numbers plain)."""
    return {**_purchase_part(record), **record["response"]}


def return_replay(record: dict[str, Any], claim_field: str) -> dict[str, Any]:
    return {**_return_part(record, claim_field), **record["returns"][claim_field]["response"]}


def claim_location(scope: str, key: str) -> dict[str, str]:
    if scope.startswith(PURCHASE_CLAIM_SCOPE):
        return purchase_key(scope[len(PURCHASE_CLAIM_SCOPE):], key)
    if scope.startswith(POINTS_PAYMENT_CLAIM_SCOPE):
        return payment_key(scope[len(POINTS_PAYMENT_CLAIM_SCOPE):], key)
    return idempotency_key(scope, key)


POINTS_PAYMENT_CLAIM_SCOPE = "points_payment:"  # ...a points payment's on its own record
HOLD_SHARDS = 4  # open points reservations of one day spread over this many GSI1 partitions


def payment_key(member_id: str, payment_id: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"POINTSPAY#{payment_id}"}


def hold_partition(day: date, shard: int) -> str:
    return f"HOLD#{day.isoformat()}#{shard}"


def lot_key(member_id: str, lot_id: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"LOT#{lot_id}"}


def counter_key(member_id: str, counter: CounterIncrement) -> dict[str, str]:
    """One item per member, activity type and local month: the month's count and each day's."""
    return {"PK": member_pk(member_id), "SK": f"ACTIVITY#{counter.activity_type}#{counter.day:%Y-%m}"}


MONTH_COUNT = "month_count"


def day_count_attribute(day: date) -> str:
    return f"d{day.day:02d}"  # d01..d31 on the month's counter item


def activation_partition(day: date, shard: int) -> str:
    return f"PENDING#{day.isoformat()}#{shard}"


def activation_shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % ACTIVATION_SHARDS


def expiry_partition(day: date, shard: int) -> str:
    return f"EXPIRY#{day.isoformat()}#{shard}"


def expiry_shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % EXPIRY_SHARDS


def expiry_index_keys(balance: PointsBalance) -> dict[str, str]:
    """GSI3 keys of a balance: the day the expiry job next has work for it and its shard; none (the
    balance is not in the sparse index) when none of its points expire."""
    if balance.expiry_check_on is None:
        return {}
    return {"GSI3PK": expiry_partition(balance.expiry_check_on, expiry_shard(balance.member_id)),
            "GSI3SK": balance.member_id}


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key_tuple(key: dict[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


class DynamoPointsRepository:
    BATCH_GET_ATTEMPTS = 6

    def __init__(self, table, stores: StoreDirectory | None = None,
                 balance_keys: Callable[[PointsBalance], dict[str, str]] | None = None):
        self._table = table
        # Index keys another capability derives from what it keeps on the balance (the tiers' review index).
        self._balance_keys = balance_keys or (lambda _balance: {})
        self._client = table.meta.client
        self._name = table.name
        # Stores change rarely: read through a short per-container cache, not in every operation's read.
        self._stores = stores or CachedStoreDirectory(DynamoStoreDirectory(table))

    # -- reads ----------------------------------------------------------------------------------
    def load(self, member_id: str, *, member: bool = False, store_ids: tuple[str, ...] = (),
             purchase: tuple[str, str] | None = None, lot_id: str | None = None, payment_id: str | None = None,
             joined: Mapping[str, JoinedRead] = {}, claim: tuple[str, str] | None = None,
             claim_record: Any = None) -> Snapshot:
        wanted = {"balance": balance_key(member_id)}
        if payment_id is not None:
            wanted["payment"] = payment_key(member_id, payment_id)
        for name, read in joined.items():
            wanted[f"joined:{name}"] = read.key
        if member:
            wanted["member"] = {"PK": member_pk(member_id), "SK": PROFILE}
        if purchase is not None:
            wanted["purchase"] = purchase_key(*purchase)
        if lot_id is not None:
            wanted["lot"] = lot_key(member_id, lot_id)
        claim_on_return = claim is not None and claim[0].startswith(RETURN_CLAIM_SCOPE) and purchase is not None
        if claim is not None and not claim_on_return:
            wanted["claim"] = claim_record if claim_record is not None else claim_location(*claim)
        found = self._batch_get(list(wanted.values()))

        def item(name: str) -> dict | None:
            raw = found.get(_key_tuple(wanted[name]))
            return plain(strip_keys(raw)) if raw else None

        balance = item("balance")
        snapshot = Snapshot(balance=PointsBalance.model_validate(balance) if balance
                            else PointsBalance(member_id=member_id))
        if member and (facts := item("member")):
            if facts.get("status") == "erased":  # a tombstone: the books stay, the member answers no more
                raise MemberErased(f"member {member_id} was erased")
            snapshot.member = MemberFacts.model_validate(facts)
        for store_id in store_ids:
            if (store := self._stores.get_store(store_id)) is not None:
                snapshot.stores[store_id] = store
        if purchase is not None and (record := item("purchase")):
            snapshot.purchase = PurchaseRecord.model_validate(record)
        if lot_id is not None and (lot := item("lot")):
            snapshot.lot = PendingLot.model_validate(lot)
        if payment_id is not None and (payment := item("payment")):
            snapshot.payment = PointsPaymentRecord.model_validate(payment)
        for name, read in joined.items():
            raw = found.get(_key_tuple(read.key))
            snapshot.joined[name] = read.parse(plain(raw) if raw else None)
        if claim_on_return:
            record = plain(found.get(_key_tuple(wanted["purchase"])) or {})
            field = return_claim_field(*claim)
            if (stored := (record.get("returns") or {}).get(field)) is not None:
                snapshot.claim = StoredClaim(stored["request_hash"], return_replay(record, field))
        elif claim is not None and (stored := found.get(_key_tuple(wanted["claim"]))) and "request_hash" in stored:
            stored = plain(stored)
            on_purchase = claim[0].startswith(PURCHASE_CLAIM_SCOPE)
            snapshot.claim = StoredClaim(stored["request_hash"],
                                         purchase_replay(stored) if on_purchase else stored["response"])
        return snapshot

    def _batch_get(self, keys: list[dict[str, str]]) -> dict[tuple[str, str], dict]:
        unique = list({_key_tuple(k): k for k in keys}.values())
        request = {self._name: {"Keys": unique, "ConsistentRead": True}}
        found: dict[tuple[str, str], dict] = {}
        for attempt in range(self.BATCH_GET_ATTEMPTS):
            response = self._client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self._name, []):
                found[(raw["PK"], raw["SK"])] = raw
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.02 * (2**attempt))
        raise RuntimeError("DynamoDB left keys unprocessed after several attempts")

    def member_exists(self, member_id: str) -> bool:
        key = {"PK": member_pk(member_id), "SK": PROFILE}
        return "Item" in self._table.get_item(Key=key, ProjectionExpression="PK")

    def get_balance(self, member_id: str) -> PointsBalance | None:
        item = self._table.get_item(Key=balance_key(member_id)).get("Item")
        return PointsBalance.model_validate(plain(strip_keys(item))) if item else None

    def ledger_page(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        start_key = decode_cursor(cursor) if cursor else None
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with(LEDGER),
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one more than asked tells whether another page exists
        }
        if start_key is not None:
            if (set(start_key) != {"PK", "SK"} or start_key["PK"] != member_pk(member_id)
                    or not str(start_key["SK"]).startswith(LEDGER)):
                raise InvalidInput("this cursor does not belong to this member's ledger", field="cursor")
            query["ExclusiveStartKey"] = start_key
        items = self._table.query(**query)["Items"]
        entries = [LedgerEntry.model_validate(plain(strip_keys(i))) for i in items[:limit]]
        more = len(items) > limit
        return entries, (encode_cursor(ledger_key(member_id, entries[-1].seq)) if more and entries else None)

    def due_lots(self, day: date, now: datetime) -> Iterator[tuple[str, str]]:
        upper = f"{utc_text(now)}#~"  # '~' sorts after every member and lot id character
        for shard in range(ACTIVATION_SHARDS):
            query: dict[str, Any] = {
                "IndexName": "GSI1",
                "KeyConditionExpression": Key("GSI1PK").eq(activation_partition(day, shard)) & Key("GSI1SK").lte(upper),
            }
            while True:
                response = self._table.query(**query)
                for item in response["Items"]:
                    yield item["member_id"], item["lot_id"]
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def activation_watermark(self) -> date | None:
        item = self._table.get_item(Key=_WATERMARK_KEY, ConsistentRead=True).get("Item")
        return date.fromisoformat(item["done_before"]) if item else None

    def set_activation_watermark(self, day: date) -> None:
        try:
            self._table.put_item(
                Item={**_WATERMARK_KEY, "entity": "job_watermark", "done_before": day.isoformat()},
                ConditionExpression="attribute_not_exists(PK) OR #d <= :day",
                ExpressionAttributeNames={"#d": "done_before"},
                ExpressionAttributeValues={":day": day.isoformat()},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # another run already moved it further

    # -- the one write --------------------------------------------------------------------------
    def commit(self, plan: WritePlan) -> None:
        member_id = plan.balance_after.member_id
        items: list[dict[str, Any]] = []
        failures: dict[int, Any] = {}
        claim_index = None

        def stale(_old):
            raise StaleSnapshot()

        claim_on_return = (plan.claim is not None and plan.claim.scope.startswith(RETURN_CLAIM_SCOPE)
                           and plan.purchase_returned is not None)
        claim_on_purchase = plan.claim is not None and plan.claim.scope.startswith(PURCHASE_CLAIM_SCOPE)

        failures[len(items)] = stale
        items.append(self._put_balance(plan.balance_before, plan.balance_after))
        # The operation's event rides on its (last) ledger entry: the stream relays it from there.
        events = list(plan.events)
        for index, entry in enumerate(plan.entries):
            failures[len(items)] = stale
            carried = event_fields(events.pop(0)) if events and index == len(plan.entries) - 1 else {}
            items.append(self._put_new({**ledger_key(member_id, entry.seq), "entity": "ledger_entry",
                                        "member_id": member_id, **drop_none(entry.model_dump(mode="json")),
                                        **carried}))
        if plan.new_purchase is not None:
            record = plan.new_purchase
            carried = event_fields(plan.purchase_event) if plan.purchase_event is not None else {}
            items.append(self._put_new({**purchase_key(record.store_id, record.order_id), "entity": "purchase",
                                        **drop_none(record.model_dump(mode="json")), "returns": {}, **carried}))
        if plan.purchase_returned is not None:
            claim = plan.claim if claim_on_return else None
            failures[len(items)] = _returned_or_stale(claim)
            items.append(self._update_returned(*plan.purchase_returned, claim=claim))
        if plan.new_lot is not None:
            items.append(self._put_new(self._lot_item(plan.new_lot)))
        if plan.lot_change is not None:
            lot, left = plan.lot_change
            failures[len(items)] = stale
            items.append(self._change_lot(lot, left))
        if plan.lot_activated is not None:
            failures[len(items)] = stale
            items.append(self._change_lot(plan.lot_activated, 0))
        if plan.counter is not None:
            failures[len(items)] = _cap_reached(plan.counter)
            items.append(self._count(member_id, plan.counter))
        if plan.new_payment is not None:
            items.append(self._put_new(self._payment_item(plan.new_payment)))
        if plan.payment_change is not None:
            failures[len(items)] = stale
            items.append(self._close_payment(*plan.payment_change))
        for write in plan.joined:
            if write.refused is not None:
                failures[len(items)] = write.refused
            items.append(write.item)
        if plan.claim is not None and not claim_on_return:
            location = plan.claim_record if plan.claim_record is not None else \
                claim_location(plan.claim.scope, plan.claim.key)
            claim_index = _claim_on_new_record(items, location, plan.claim)
            if claim_index is None:  # no record of its own: the claim is an item of its own
                claim_index = len(items)
                items.append(idempotency_put(self._name, plan.claim))
            elif claim_on_purchase:  # the record keeps only the part of the answer it cannot give back
                item = items[claim_index]["Put"]["Item"]
                item["response"] = _rest(plan.claim.response, _purchase_part(item))
        items += outbox_puts(self._name, events)
        Transaction(self._client, items, claim=plan.claim, claim_index=claim_index, failures=failures,
                    replay=purchase_replay if claim_on_purchase else None).commit()

    def _payment_item(self, record: PointsPaymentRecord) -> dict[str, Any]:
        item = {**payment_key(record.member_id, record.payment_id), "entity": "points_payment",
                **drop_none(record.model_dump(mode="json"))}
        if record.status == "reserved":  # open: the sweep finds it by the time its hold ends
            item["GSI1PK"] = hold_partition(record.held_until.astimezone(timezone.utc).date(),
                                            zlib.crc32(record.member_id.encode()) % HOLD_SHARDS)
            item["GSI1SK"] = f"{utc_text(record.held_until)}#{record.member_id}#{record.payment_id}"
        return item

    def _close_payment(self, before: PointsPaymentRecord, after: PointsPaymentRecord) -> dict[str, Any]:
        """Captured, voided or expired: only from the state read, and out of the sweep's index."""
        return {"Update": {
            "TableName": self._name,
            "Key": payment_key(before.member_id, before.payment_id),
            "UpdateExpression": "SET #s = :s, #c = :c, #a = :a, #v = :nv REMOVE GSI1PK, GSI1SK",
            "ConditionExpression": "#v = :v AND #s = :read",
            "ExpressionAttributeNames": {"#s": "status", "#c": "closed_at", "#a": "close_balance", "#v": "version"},
            "ExpressionAttributeValues": {":s": after.status, ":c": after.model_dump(mode="json")["closed_at"],
                                          ":a": after.model_dump(mode="json")["close_balance"],
                                          ":nv": after.version, ":v": before.version, ":read": before.status},
        }}

    def open_payments(self, member_id: str) -> list[str]:
        """The ids of the member's points payments still reserved (erasure releases them)."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("POINTSPAY#"),
            "FilterExpression": Attr("status").eq("reserved"), "ProjectionExpression": "payment_id",
        }
        found: list[str] = []
        while True:
            response = self._table.query(**query)
            found += [item["payment_id"] for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def due_holds(self, day: date, now: datetime) -> Iterator[tuple[str, str]]:
        upper = f"{utc_text(now)}#~"
        for shard in range(HOLD_SHARDS):
            query: dict[str, Any] = {
                "IndexName": "GSI1",
                "KeyConditionExpression": Key("GSI1PK").eq(hold_partition(day, shard)) & Key("GSI1SK").lte(upper),
            }
            while True:
                response = self._table.query(**query)
                for item in response["Items"]:
                    yield item["member_id"], item["payment_id"]
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _put_balance(self, before: PointsBalance, after: PointsBalance) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self._name,
            "Item": {**balance_key(after.member_id), "entity": "points_balance",
                     **drop_none(after.model_dump(mode="json")), **expiry_index_keys(after),
                     **self._balance_keys(after)},
        }
        return {"Put": conditioned_on_version(put, before.version)}

    def _update_returned(self, before: PurchaseRecord, after: PurchaseRecord,
                         claim: IdempotencyClaim | None = None) -> dict[str, Any]:
        """New returned quantities, guarded twice: the version read (the claw-back maths used it) and,
        per changed line, that the units returned so far still leave room for this return. The return's
        claim goes into the record's `returns` map in the same update (one item, not two)."""
        names = {"#v": "version", "#l": "lines", "#rp": "returned_points"}
        values: dict[str, Any] = {":v": before.version, ":nv": after.version, ":rp": after.returned_points,
                                  ":lines": drop_none(after.model_dump(mode="json")["lines"])}
        conditions = ["#v = :v"]
        changed = [i for i, (old, new) in enumerate(zip(before.lines, after.lines)) if new.returned != old.returned]
        if changed and len(changed) <= LINE_GUARDS:
            names["#r"] = "returned"
            for index in changed:
                old, new = before.lines[index], after.lines[index]
                values[f":room{index}"] = new.quantity - (new.returned - old.returned)
                conditions.append(f"#l[{index}].#r <= :room{index}")
        update = "SET #v = :nv, #rp = :rp, #l = :lines"
        if after.points_refunded != before.points_refunded:  # points that paid for the order came back
            names.update({"#pr": "points_refunded", "#pt": "points_taken"})
            values.update({":pr": after.points_refunded, ":pt": after.points_taken})
            update += ", #pr = :pr, #pt = :pt"
        if claim is not None:
            field = return_claim_field(claim.scope, claim.key)
            names.update({"#returns": "returns", "#claim": field})
            values[":claim"] = {"request_hash": claim.request_hash,
                                "response": _rest(claim.response, _return_part(before.model_dump(mode="json"), field))}
            update += ", #returns.#claim = :claim"
            conditions.append("attribute_not_exists(#returns.#claim)")
        return {"Update": {
            "TableName": self._name,
            "Key": purchase_key(before.store_id, before.order_id),
            "UpdateExpression": update,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}

    def _lot_item(self, lot: PendingLot) -> dict[str, Any]:
        return {
            **lot_key(lot.member_id, lot.lot_id), "entity": "pending_lot",
            "GSI1PK": activation_partition(lot.activates_at.astimezone(timezone.utc).date(), activation_shard(lot.member_id)),
            "GSI1SK": f"{utc_text(lot.activates_at)}#{lot.member_id}#{lot.lot_id}",
            **drop_none(lot.model_dump(mode="json")),
        }

    def _change_lot(self, lot: PendingLot, points_left: int) -> dict[str, Any]:
        """Shrink a lot (a return took some of it) or delete it (fully returned or activated): only if
        it still holds what was read, so activation and claw-back never both spend the same points."""
        guard = {
            "ConditionExpression": "attribute_exists(PK) AND #p = :read",
            "ExpressionAttributeNames": {"#p": "points"},
            "ExpressionAttributeValues": {":read": lot.points},
        }
        key = lot_key(lot.member_id, lot.lot_id)
        if points_left <= 0:
            return {"Delete": {"TableName": self._name, "Key": key, **guard}}
        guard["ExpressionAttributeValues"][":left"] = points_left
        return {"Update": {"TableName": self._name, "Key": key, "UpdateExpression": "SET #p = :left", **guard}}

    def _count(self, member_id: str, counter: CounterIncrement) -> dict[str, Any]:
        """ADD one to the month's count and the day's (those with a cap) in one item, conditioned on
        each being under its cap: the transaction holds both caps exactly, whatever runs beside it."""
        names = {"#e": "entity", "#x": "expires_at"}
        values: dict[str, Any] = {":one": 1, ":entity": "activity_counter", ":exp": epoch_seconds(counter.keep_until)}
        adds, conditions = [], []
        for alias, attribute, cap in (("#m", MONTH_COUNT, counter.monthly_cap),
                                      ("#d", day_count_attribute(counter.day), counter.daily_cap)):
            if cap is None:
                continue
            names[alias] = attribute
            values[f":{alias[1:]}cap"] = cap
            adds.append(f"{alias} :one")
            conditions.append(f"(attribute_not_exists({alias}) OR {alias} < :{alias[1:]}cap)")
        return {"Update": {
            "TableName": self._name,
            "Key": counter_key(member_id, counter),
            "UpdateExpression": f"ADD {', '.join(adds)} SET #e = :entity, #x = :exp",
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # tells which cap is full
        }}

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


_WATERMARK_KEY = {"PK": "JOB#points_activation", "SK": "WATERMARK"}


def _claim_on_new_record(items: list[dict[str, Any]], location: dict[str, str], claim: IdempotencyClaim) -> int | None:
    """Put the claim on the new record the transaction creates at `location` (the purchase record, the
    payment, a redemption): one item, not two. Returns its index, or None when no such Put is there."""
    for index, item in enumerate(items):
        put = item.get("Put")
        if put and put["Item"]["PK"] == location["PK"] and put["Item"]["SK"] == location["SK"]:
            put["Item"].update({"request_hash": claim.request_hash, "response": claim.response})
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            return index
    return None


class DynamoPointsMemberData:
    """kernel.ports.MemberDataSource: the member's points for a data export. Purchases are keyed by their
    business key, not the member, so they are found from the ledger's earn entries, a page at a time."""

    sections = ("points_balance", "ledger", "purchases", "points_payments", "pending_points")

    def __init__(self, table):
        self._table = table
        self._client = table.meta.client

    def member_records(self, member_id: str, section: str) -> Iterator[dict[str, Any]]:
        if section == "points_balance":
            yield from member_items(self._table, member_id, "POINTS")
        elif section == "ledger":
            yield from member_items(self._table, member_id, "LEDGER#")
        elif section == "points_payments":
            yield from member_items(self._table, member_id, "POINTSPAY#")
        elif section == "pending_points":
            yield from member_items(self._table, member_id, "LOT#")
        elif section == "purchases":
            keys: list[dict[str, str]] = []
            for entry in member_items(self._table, member_id, "LEDGER#"):
                if entry.get("type") == "earn" and entry.get("reference", {}).get("kind") == "purchase":
                    keys.append(purchase_key(entry["store_id"], entry["reference"]["id"]))
                if len(keys) == 100:  # BatchGetItem's limit
                    yield from self._purchases(keys)
                    keys = []
            yield from self._purchases(keys)

    def _purchases(self, keys: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
        request = {self._table.name: {"Keys": list({(k["PK"], k["SK"]): k for k in keys}.values())}} if keys else {}
        while request:  # the resource's client speaks Python types, as the repository's batch read does
            response = self._client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self._table.name, []):
                yield {k: v for k, v in plain(strip_keys(raw)).items() if k not in INTERNAL_ATTRIBUTES}
            request = response.get("UnprocessedKeys") or {}


class DynamoExpiryIndex:
    """The expiry job's reads: balances by the day it next has work for them (GSI3, keys only), one
    partition per day and shard; and the job's watermark (the last day whose partitions were handed out)."""

    WATERMARK_KEY = {"PK": "JOB#points_expiry", "SK": "WATERMARK"}
    shards = EXPIRY_SHARDS

    def __init__(self, table, page_size: int = 100):
        self._table = table
        self._client = table.meta.client
        self._page_size = page_size

    def due_members(self, day: date, shard: int, after: str | None = None) -> Iterator[tuple[str, str]]:
        """(member_id, position) of the balances in the (day, shard) partition, in member id order,
        starting after `after` (a position this returned). A page at a time: stopping early reads no
        further."""
        partition = expiry_partition(day, shard)
        query: dict[str, Any] = {
            "IndexName": EXPIRY_INDEX,
            "KeyConditionExpression": Key("GSI3PK").eq(partition),
            "Limit": self._page_size,
        }
        if after is not None:
            query["ExclusiveStartKey"] = self._start_key(after, partition)
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                key = {name: item[name] for name in ("PK", "SK", "GSI3PK", "GSI3SK")}
                yield item["GSI3SK"], encode_cursor(key)
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _start_key(position: str, partition: str) -> dict[str, str]:
        key = decode_cursor(position)
        if set(key) != {"PK", "SK", "GSI3PK", "GSI3SK"} or key["GSI3PK"] != partition:
            raise InvalidInput("this position does not belong to this expiry partition", field="cursor")
        return key

    def dispatched_through(self) -> date | None:
        item = self._table.get_item(Key=self.WATERMARK_KEY, ConsistentRead=True).get("Item")
        return date.fromisoformat(item["dispatched_through"]) if item else None

    def set_dispatched_through(self, day: date) -> None:
        try:
            self._table.put_item(
                Item={**self.WATERMARK_KEY, "entity": "job_watermark", "dispatched_through": day.isoformat()},
                ConditionExpression="attribute_not_exists(PK) OR #d <= :day",
                ExpressionAttributeNames={"#d": "dispatched_through"},
                ExpressionAttributeValues={":day": day.isoformat()},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # another run already moved it further


def _returned_or_stale(claim: IdempotencyClaim | None):
    """The purchase changed since it was read: the same return done meanwhile answers as a replay (or
    a 409 for another request with its id); anything else is read again."""
    def handle(old: dict | None):
        field = return_claim_field(claim.scope, claim.key) if claim else None
        stored = ((old or {}).get("returns") or {}).get(field) if claim else None
        if stored:
            raise replay_or_conflict(stored["request_hash"], return_replay(old, field), claim)
        raise StaleSnapshot()
    return handle


def _cap_reached(counter: CounterIncrement):
    def raise_cap(old: dict | None):
        # The day's cap is named when it is full (both may be), the month's otherwise.
        day_full = counter.daily_cap is not None and \
            int((old or {}).get(day_count_attribute(counter.day), 0)) >= counter.daily_cap
        per, cap = ("day", counter.daily_cap) if day_full or counter.monthly_cap is None else \
            ("month", counter.monthly_cap)
        raise ActivityCapReached(
            f"{counter.activity_type} earns points at most {cap} time(s) per {per}",
            field="type", details={"type": counter.activity_type, "cap": cap, "per": per},
        )
    return raise_cap


class DynamoProgramRulesRepository(CachedVersionedDocument):
    """The program rules item, cached per container (rules change rarely; a change reaches every
    container within the cache's time)."""

    SK, ATTRIBUTE, ENTITY = "RULES", "rules", "program_rules"

    def parse(self, body: dict[str, Any], version: int) -> ProgramRules:
        return ProgramRules.model_validate({**body, "version": version})

    def default(self) -> ProgramRules:
        return default_rules()

    def conflict(self, version_read: int) -> Exception:
        return RulesVersionConflict(
            f"the rules changed since version {version_read}; reload them and apply your change again",
            field="version")

    def replace(self, rules: ProgramRulesInput, *, changed_by: str, at: datetime) -> ProgramRules:
        return super().replace(rules, changed_by=changed_by, at=at)

