"""DynamoDB implementation of MemberRepository and StoreDirectory."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from loyalty.platform.dynamo import (
    PROFILE, Transaction, claim_key, drop_none, idempotency_put, member_pk, plain, strip_keys,
)
from loyalty.platform.outbox import outbox_puts
from loyalty.kernel.errors import ConcurrentUpdate
from loyalty.members.errors import EmailAlreadyEnrolled, PhoneAlreadyEnrolled
from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.members.domain import ConsentRecord, Member


class DynamoMemberRepository:
    def __init__(self, table):
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    # -- writes ---------------------------------------------------------------------------------
    def create_member(self, member: Member, claim: IdempotencyClaim | None, events: list[DomainEvent]) -> None:
        items: list[dict[str, Any]] = []
        failures = {}
        claim_index = None
        if claim is not None:
            claim_index = len(items)
            items.append(idempotency_put(self._name, claim))

        def phone_taken(_old):
            raise PhoneAlreadyEnrolled("a member with this phone number already exists", field="phone")

        def email_taken(_old):
            raise EmailAlreadyEnrolled("a member with this email already exists", field="email")

        failures[len(items)] = phone_taken
        items.append(self._claim_put("PHONE", member.phone, member.member_id))
        if member.email:
            failures[len(items)] = email_taken
            items.append(self._claim_put("EMAIL", member.email, member.member_id))
        items.append(self._claim_put("CARD", member.card_number, member.member_id))
        items.append(self._claim_put("REFCODE", member.referral_code, member.member_id))
        items.append(self._put_new(self._member_item(member)))
        for consent in member.consents.values():
            items.append(self._put_new(self._consent_item(member.member_id, consent)))
        items += outbox_puts(self._name, events)
        Transaction(self._client, items, claim=claim, claim_index=claim_index, failures=failures).commit()

    def update_member(self, before: Member, after: Member, new_consents: list[ConsentRecord],
                      events: list[DomainEvent]) -> None:
        items: list[dict[str, Any]] = []
        failures = {}

        def changed_meanwhile(_old):
            raise ConcurrentUpdate("the member was changed by another request; reload and retry")

        def email_taken(_old):
            raise EmailAlreadyEnrolled("a member with this email already exists", field="email")

        failures[0] = changed_meanwhile
        items.append({
            "Put": {
                "TableName": self._name,
                "Item": self._member_item(after),
                "ConditionExpression": "#v = :expected",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":expected": before.version},
            }
        })
        if after.email != before.email:
            if after.email:
                failures[len(items)] = email_taken
                items.append(self._claim_put("EMAIL", after.email, after.member_id))
            if before.email:
                # Release only our own claim.
                items.append({"Delete": {"TableName": self._name, "Key": claim_key("EMAIL", before.email),
                                         "ConditionExpression": "member_id = :me",
                                         "ExpressionAttributeValues": {":me": before.member_id}}})
        for consent in new_consents:
            items.append(self._put_new(self._consent_item(after.member_id, consent)))
        items += outbox_puts(self._name, events)
        Transaction(self._client, items, failures=failures).commit()

    # -- reads ----------------------------------------------------------------------------------
    def get_member(self, member_id: str) -> Member | None:
        item = self._table.get_item(Key={"PK": member_pk(member_id), "SK": PROFILE}).get("Item")
        return Member.model_validate(plain(strip_keys(item))) if item else None

    def member_id_by_phone(self, phone: str) -> str | None:
        return self._claim_owner("PHONE", phone)

    def member_id_by_card(self, card_number: str) -> str | None:
        return self._claim_owner("CARD", card_number)

    def member_id_by_referral_code(self, code: str) -> str | None:
        return self._claim_owner("REFCODE", code)

    def consent_history(self, member_id: str) -> list[ConsentRecord]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("CONSENT#"),
            ScanIndexForward=False,
        )
        return [ConsentRecord.model_validate(plain(strip_keys(i))) for i in response["Items"]]

    # -- items ----------------------------------------------------------------------------------
    def _claim_owner(self, kind: str, value: str) -> str | None:
        item = self._table.get_item(Key=claim_key(kind, value)).get("Item")
        return item["member_id"] if item else None

    def _claim_put(self, kind: str, value: str, member_id: str) -> dict[str, Any]:
        return self._put_new({**claim_key(kind, value), "entity": f"{kind.lower()}_claim", "member_id": member_id})

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    @staticmethod
    def _member_item(member: Member) -> dict[str, Any]:
        return {"PK": member_pk(member.member_id), "SK": PROFILE, "entity": "member",
                **drop_none(member.model_dump(mode="json"))}

    @staticmethod
    def _consent_item(member_id: str, consent: ConsentRecord) -> dict[str, Any]:
        return {
            "PK": member_pk(member_id),
            "SK": f"CONSENT#{consent.recorded_at.isoformat()}#{consent.kind.value}",
            "entity": "consent",
            **drop_none(consent.model_dump(mode="json")),
        }

