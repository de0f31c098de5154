"""DynamoDB implementation of the rewards ports (see docs/table-design.md, "Rewards and vouchers")."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from boto3.dynamodb.conditions import Attr, Key

from loyalty.kernel.errors import InvalidInput
from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim, IdempotentReplay
from loyalty.kernel.spending import JoinedRead, JoinedWrite, ReadAgain
from loyalty.platform.cursor import decode_cursor, encode_cursor
from loyalty.platform.dynamo import (
    Transaction, drop_none, idempotency_put, member_items, member_pk, plain, strip_keys,
)
from loyalty.platform.outbox import outbox_puts
from loyalty.rewards.domain import RedemptionRecord, Reward, RewardInput, Voucher
from loyalty.rewards.errors import (
    RedemptionLimitReached, RewardExists, RewardNotFound, RewardOutOfStock, RewardVersionConflict, StockBelowTaken,
    VoucherAlreadyUsed,
)
from loyalty.rewards.ports import StaleVoucher

CATALOGUE = "REWARDS"  # one partition holds the catalogue (hundreds of items, written by the back office only)
BATCH_GET_LIMIT = 100


def reward_key(reward_id: str) -> dict[str, str]:
    return {"PK": CATALOGUE, "SK": f"REWARD#{reward_id}"}


def stock_key(reward_id: str) -> dict[str, str]:
    """Each tracked reward's stock is an item of its own: redemptions of one reward write it, nothing else."""
    return {"PK": f"REWARD#{reward_id}", "SK": "STOCK"}


def redemption_key(member_id: str, redemption_id: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"REDEMPTION#{redemption_id}"}


def redeemed_key(member_id: str, reward_id: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"REDEEMED#{reward_id}"}


def voucher_key(member_id: str, code: str) -> dict[str, str]:
    return {"PK": member_pk(member_id), "SK": f"VOUCHER#{code}"}


def _reward(raw: dict | None) -> Reward | None:
    return Reward.model_validate(strip_keys(raw)) if raw else None


def _redemption(raw: dict | None) -> RedemptionRecord | None:
    return RedemptionRecord.model_validate(strip_keys(raw)) if raw else None


def _voucher(raw: dict) -> Voucher:
    return Voucher.model_validate(strip_keys(raw))


def _put_new(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


class DynamoRewardRepository:
    def __init__(self, table):
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    # -- the catalogue --------------------------------------------------------------------------
    def get(self, reward_id: str) -> tuple[Reward, int | None] | None:
        reward = _reward(plain(self._table.get_item(Key=reward_key(reward_id), ConsistentRead=True).get("Item")))
        if reward is None:
            return None
        return reward, self._stock_left([reward]).get(reward_id)

    def catalogue(self) -> list[tuple[Reward, int | None]]:
        rewards, query = [], {"KeyConditionExpression": Key("PK").eq(CATALOGUE) & Key("SK").begins_with("REWARD#")}
        while True:
            page = self._table.query(**query)
            rewards += [_reward(plain(raw)) for raw in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        left = self._stock_left(rewards)
        return [(reward, left.get(reward.reward_id)) for reward in rewards]

    def _stock_left(self, rewards: list[Reward]) -> dict[str, int]:
        tracked = [r.reward_id for r in rewards if r.stock is not None]
        left: dict[str, int] = {}
        for start in range(0, len(tracked), BATCH_GET_LIMIT):
            request = {self._name: {"Keys": [stock_key(i) for i in tracked[start:start + BATCH_GET_LIMIT]],
                                    "ProjectionExpression": "PK, remaining"}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self._name, []):
                    left[raw["PK"].removeprefix("REWARD#")] = int(plain(raw["remaining"]))
                request = response.get("UnprocessedKeys") or {}
        return left

    def create(self, reward: RewardInput, *, at: datetime) -> Reward:
        stored = Reward.model_validate({**reward.model_dump(), "version": 1, "created_at": at, "updated_at": at})
        items = [_put_new(self._name, self._reward_item(stored))]
        if stored.stock is not None:
            items.append(_put_new(self._name, {**stock_key(stored.reward_id), "entity": "reward_stock",
                                               "total": stored.stock, "taken": 0, "remaining": stored.stock}))

        def exists(_old):
            raise RewardExists(f"reward {reward.reward_id} exists; change it with PUT", field="reward_id")

        Transaction(self._client, items, failures={0: exists, 1: exists}).commit()
        return stored

    def replace(self, reward: RewardInput, *, at: datetime) -> Reward:
        found = self.get(reward.reward_id)
        if found is None:
            raise RewardNotFound(f"there is no reward {reward.reward_id}")
        before = found[0]
        stored = Reward.model_validate({**reward.model_dump(), "version": reward.version + 1,
                                        "created_at": before.created_at, "updated_at": at})
        put = {"TableName": self._name, "Item": self._reward_item(stored), "ConditionExpression": "#v = :v",
               "ExpressionAttributeNames": {"#v": "version"}, "ExpressionAttributeValues": {":v": reward.version}}

        def moved_on(_old):
            raise RewardVersionConflict(f"reward {reward.reward_id} changed since version {reward.version}; "
                                        "read it again and apply your change", field="version")

        def below(old):
            raise StockBelowTaken(f"{(old or {}).get('taken', 0)} units were redeemed already; the stock cannot "
                                  "be less", field="stock", details={"redeemed": (old or {}).get("taken", 0)})

        items: list[dict[str, Any]] = [{"Put": put}]
        if stored.stock is not None:  # new total; what is left follows, never below what was redeemed
            items.append({"Update": {
                "TableName": self._name, "Key": stock_key(stored.reward_id),
                "UpdateExpression": "SET #t = :t, #r = :t - if_not_exists(#k, :zero), #k = if_not_exists(#k, :zero), "
                                    "#e = :e",
                "ConditionExpression": "attribute_not_exists(#k) OR #k <= :t",
                "ExpressionAttributeNames": {"#t": "total", "#r": "remaining", "#k": "taken", "#e": "entity"},
                "ExpressionAttributeValues": {":t": stored.stock, ":zero": 0, ":e": "reward_stock"},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }})
        Transaction(self._client, items, failures={0: moved_on, 1: below}).commit()
        return stored

    def _reward_item(self, reward: Reward) -> dict[str, Any]:
        return {**reward_key(reward.reward_id), "entity": "reward", **drop_none(reward.model_dump(mode="json"))}

    def redeemed_counts(self, member_id: str) -> dict[str, int]:
        query = {"KeyConditionExpression": Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("REDEEMED#")}
        counts: dict[str, int] = {}
        while True:
            page = self._table.query(**query)
            counts.update({raw["SK"].removeprefix("REDEEMED#"): int(raw["count"]) for raw in page["Items"]})
            if "LastEvaluatedKey" not in page:
                return counts
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- a redemption's part of the points transaction ------------------------------------------
    def read_reward(self, reward_id: str) -> JoinedRead:
        return JoinedRead(key=reward_key(reward_id), parse=_reward)

    def read_redemption(self, member_id: str, redemption_id: str) -> JoinedRead:
        return JoinedRead(key=redemption_key(member_id, redemption_id), parse=_redemption)

    def put_redemption(self, record: RedemptionRecord) -> JoinedWrite:
        item = {**redemption_key(record.member_id, record.redemption_id), "entity": "redemption",
                **drop_none(record.model_dump(mode="json"))}
        return JoinedWrite(_put_new(self._name, item))

    def cancel_redemption(self, before: RedemptionRecord, after: RedemptionRecord) -> JoinedWrite:
        def read_again(_old):
            raise ReadAgain()

        dumped = after.model_dump(mode="json")
        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": redemption_key(before.member_id, before.redemption_id),
            "UpdateExpression": "SET #s = :s, #c = :c, #a = :a, #v = :nv",
            "ConditionExpression": "#v = :v AND #s = :completed",
            "ExpressionAttributeNames": {"#s": "status", "#c": "cancelled_at", "#a": "cancel_balance", "#v": "version"},
            "ExpressionAttributeValues": {":s": after.status, ":c": dumped["cancelled_at"], ":a": dumped["cancel_balance"],
                                          ":nv": after.version, ":v": before.version, ":completed": "completed"},
        }}, refused=read_again)

    def take_stock(self, reward_id: str, quantity: int) -> JoinedWrite:
        def out_of_stock(old):
            left = int((old or {}).get("remaining", 0))
            raise RewardOutOfStock(f"reward {reward_id} has {left} left", field="quantity",
                                   details={"stock_left": left})

        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": stock_key(reward_id),
            "UpdateExpression": "SET #r = #r - :q, #k = #k + :q",
            "ConditionExpression": "#r >= :q",
            "ExpressionAttributeNames": {"#r": "remaining", "#k": "taken"},
            "ExpressionAttributeValues": {":q": quantity},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}, refused=out_of_stock)

    def return_stock(self, reward_id: str, quantity: int) -> JoinedWrite:
        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": stock_key(reward_id),
            "UpdateExpression": "ADD #r :q, #k :minus",
            "ExpressionAttributeNames": {"#r": "remaining", "#k": "taken"},
            "ExpressionAttributeValues": {":q": quantity, ":minus": -quantity},
        }})

    def count_redeemed(self, member_id: str, reward_id: str, quantity: int, limit: int) -> JoinedWrite:
        def limit_reached(old):
            held = int((old or {}).get("count", 0))
            raise RedemptionLimitReached(f"reward {reward_id} is limited to {limit} per member; {held} redeemed",
                                         field="quantity", details={"limit": limit, "redeemed": held})

        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": redeemed_key(member_id, reward_id),
            "UpdateExpression": "ADD #n :q SET #e = :e",
            "ConditionExpression": "attribute_not_exists(#n) OR #n <= :room",
            "ExpressionAttributeNames": {"#n": "count", "#e": "entity"},
            "ExpressionAttributeValues": {":q": quantity, ":room": limit - quantity, ":e": "reward_count"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}, refused=limit_reached)

    def uncount_redeemed(self, member_id: str, reward_id: str, quantity: int) -> JoinedWrite:
        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": redeemed_key(member_id, reward_id),
            "UpdateExpression": "ADD #n :minus", "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":minus": -quantity},
        }})

    def put_voucher(self, voucher: Voucher) -> JoinedWrite:
        return JoinedWrite(_put_new(self._name, _voucher_item(voucher)))

    def void_voucher(self, voucher_code: str, member_id: str) -> JoinedWrite:
        def used(old):
            if (old or {}).get("status") == "used":
                raise VoucherAlreadyUsed(f"voucher {voucher_code} was used; a redemption with a used voucher "
                                         "cannot be cancelled", details={"code": voucher_code})
            raise ReadAgain()

        return JoinedWrite({"Update": {
            "TableName": self._name, "Key": voucher_key(member_id, voucher_code),
            "UpdateExpression": "SET #s = :voided ADD #v :one",
            "ConditionExpression": "#s = :issued",
            "ExpressionAttributeNames": {"#s": "status", "#v": "version"},
            "ExpressionAttributeValues": {":voided": "voided", ":issued": "issued", ":one": 1},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}, refused=used)


def _voucher_item(voucher: Voucher) -> dict[str, Any]:
    return {**voucher_key(voucher.member_id, voucher.code), "entity": "voucher",
            **drop_none(voucher.model_dump(mode="json"))}


class DynamoVoucherRepository:
    def __init__(self, table):
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    def get(self, member_id: str, code: str) -> Voucher | None:
        raw = self._table.get_item(Key=voucher_key(member_id, code), ConsistentRead=True).get("Item")
        return _voucher(plain(raw)) if raw else None

    def wallet(self, member_id: str, *, status: str | None, limit: int,
               cursor: str | None) -> tuple[list[Voucher], str | None]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("VOUCHER#"),
            "Limit": limit,
        }
        if status is not None:
            query["FilterExpression"] = Attr("status").eq(status)
        if cursor is not None:
            start = decode_cursor(cursor)
            if set(start) != {"PK", "SK"} or start["PK"] != member_pk(member_id) \
                    or not str(start["SK"]).startswith("VOUCHER#"):
                raise InvalidInput("this cursor does not belong to this member's vouchers", field="cursor")
            query["ExclusiveStartKey"] = start
        page = self._table.query(**query)
        last = page.get("LastEvaluatedKey")
        return [_voucher(plain(raw)) for raw in page["Items"]], (encode_cursor(last) if last else None)

    def change(self, before: Voucher, after: Voucher, event: DomainEvent) -> None:
        def stale(_old):
            raise StaleVoucher()

        put = {"TableName": self._name, "Item": _voucher_item(after), "ConditionExpression": "#v = :v",
               "ExpressionAttributeNames": {"#v": "version"}, "ExpressionAttributeValues": {":v": before.version}}
        Transaction(self._client, [{"Put": put}, *outbox_puts(self._name, [event])], failures={0: stale}).commit()

    def issue(self, voucher: Voucher, claim: IdempotencyClaim, event: DomainEvent) -> Voucher:
        items = [idempotency_put(self._name, claim), _put_new(self._name, _voucher_item(voucher)),
                 *outbox_puts(self._name, [event])]
        try:
            Transaction(self._client, items, claim=claim, claim_index=0).commit()
        except IdempotentReplay as replay:
            return self.get(voucher.member_id, replay.response["code"])
        return voucher


class DynamoRewardsMemberData:
    """kernel.ports.MemberDataSource: the member's redemptions and vouchers for a data export."""

    sections = ("redemptions", "vouchers")

    def __init__(self, table):
        self._table = table

    def member_records(self, member_id: str, section: str) -> Iterator[dict[str, Any]]:
        prefix = {"redemptions": "REDEMPTION#", "vouchers": "VOUCHER#"}[section]
        yield from member_items(self._table, member_id, prefix)

