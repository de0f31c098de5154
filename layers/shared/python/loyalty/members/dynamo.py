"""DynamoDB implementation of MemberRepository and StoreDirectory."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from boto3.dynamodb.conditions import Key

from loyalty.platform.dynamo import (
    PROFILE, Transaction, claim_key, drop_none, idempotency_put, member_pk, plain, strip_keys,
)
from loyalty.platform.outbox import outbox_puts
from loyalty.kernel.errors import ConcurrentUpdate, MemberErased
from loyalty.members.errors import EmailAlreadyEnrolled, PhoneAlreadyEnrolled
from loyalty.kernel.events import DomainEvent
from loyalty.kernel.idempotency import IdempotencyClaim
from loyalty.members.domain import AccessRecord, ConsentRecord, Member
from loyalty.members.erasure import ErasureRecord
from loyalty.members.export import ExportRecord

ERASURE = "ERASURE"
ACCESS_LOG_SECONDS = 400 * 24 * 3600  # a back-office read of personal data stays on record this long
EXPORT_RECORD_SECONDS = 7 * 24 * 3600  # an export's record expires with its document (the bucket's rule)
ERASED = "erased"
# What a tombstone keeps of the profile: no personal data, only what reports count members by.
TOMBSTONE_FIELDS = ("member_id", "enrolled_store_id", "enrolled_channel", "enrolled_at", "tier")


def erasure_due_partition(day) -> str:
    return f"ERASURE#{day.isoformat()}"


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
                      events: list[DomainEvent], erasure: tuple[ErasureRecord | None, ErasureRecord | None] = (None, None)
                      ) -> None:
        """`erasure`: (the scheduled record to cancel, the record to schedule), for a data-processing
        consent given again or withdrawn by this change."""
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
        cancelled, scheduled = erasure
        if cancelled is not None:  # only while it is still scheduled: an erasure under way is not stopped
            failures[len(items)] = changed_meanwhile
            items.append({"Delete": {"TableName": self._name, "Key": self._erasure_key(cancelled.member_id),
                                     "ConditionExpression": "#s = :scheduled",
                                     "ExpressionAttributeNames": {"#s": "status"},
                                     "ExpressionAttributeValues": {":scheduled": "scheduled"}}})
        if scheduled is not None:
            failures[len(items)] = changed_meanwhile
            items.append(self._put_new(self._erasure_item(scheduled)))
        items += outbox_puts(self._name, events)
        Transaction(self._client, items, failures=failures).commit()

    # -- access log -----------------------------------------------------------------------------
    def record_access(self, record: AccessRecord) -> None:
        self._table.put_item(Item={
            "PK": member_pk(record.member_id), "SK": f"ACCESS#{record.at.isoformat()}#{record.client_id}",
            "entity": "pii_access", "expires_at": int(record.at.timestamp()) + ACCESS_LOG_SECONDS,
            **record.model_dump(mode="json")})

    def access_log(self, member_id: str, *, limit: int) -> list[AccessRecord]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("ACCESS#"),
            ScanIndexForward=False, Limit=limit)
        return [AccessRecord.model_validate(plain(strip_keys(i))) for i in response["Items"]]

    # -- erasure --------------------------------------------------------------------------------
    def get_erasure(self, member_id: str) -> ErasureRecord | None:
        item = self._table.get_item(Key=self._erasure_key(member_id), ConsistentRead=True).get("Item")
        return ErasureRecord.model_validate(plain(strip_keys(item))) if item else None

    def start_erasure(self, record: ErasureRecord, before: ErasureRecord | None) -> ErasureRecord:
        put: dict[str, Any] = {"TableName": self._name, "Item": self._erasure_item(record)}
        if before is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put.update(ConditionExpression="#v = :v", ExpressionAttributeNames={"#v": "version"},
                       ExpressionAttributeValues={":v": before.version})
        try:
            self._client.put_item(**put)
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self.get_erasure(record.member_id)
            if stored is None:
                raise ConcurrentUpdate("the erasure was cancelled meanwhile; ask again") from None
            return stored  # started by a concurrent request: go on with the stored one
        return record

    def erase_member(self, member_id: str, before: ErasureRecord, done: ErasureRecord,
                     events: list[DomainEvent]) -> None:
        raw = self._table.get_item(Key={"PK": member_pk(member_id), "SK": PROFILE}, ConsistentRead=True).get("Item")
        if raw is None or raw.get("status") == ERASED:
            raise MemberErased(f"member {member_id} was erased")
        member = Member.model_validate(plain(strip_keys(raw)))

        def changed_meanwhile(_old):
            raise ConcurrentUpdate("the member or the erasure changed meanwhile; ask again")

        tombstone = {"PK": member_pk(member_id), "SK": PROFILE, "entity": "member", "status": ERASED,
                     "erased_at": done.completed_at.isoformat(), "version": member.version + 1,
                     **{name: value for name, value in drop_none(member.model_dump(mode="json")).items()
                        if name in TOMBSTONE_FIELDS}}
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._name, "Item": tombstone, "ConditionExpression": "#v = :v",
                     "ExpressionAttributeNames": {"#v": "version"},
                     "ExpressionAttributeValues": {":v": member.version}}},
            {"Put": {"TableName": self._name, "Item": self._erasure_item(done), "ConditionExpression": "#v = :v",
                     "ExpressionAttributeNames": {"#v": "version"},
                     "ExpressionAttributeValues": {":v": before.version}}},
        ]
        claims = [("PHONE", member.phone), ("EMAIL", member.email), ("CARD", member.card_number),
                  ("REFCODE", member.referral_code)]
        for kind, value in claims:
            if value:  # only our own claim; gone already is fine
                items.append({"Delete": {"TableName": self._name, "Key": claim_key(kind, value),
                                         "ConditionExpression": "attribute_not_exists(PK) OR member_id = :me",
                                         "ExpressionAttributeValues": {":me": member_id}}})
        items += outbox_puts(self._name, events)
        Transaction(self._client, items, failures={0: changed_meanwhile, 1: changed_meanwhile}).commit()

    def due_erasures(self, day, now) -> list[str]:
        found: list[str] = []
        query: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("GSI1PK").eq(erasure_due_partition(day))
            & Key("GSI1SK").lte(f"{now.astimezone(timezone.utc).isoformat()}~"),
        }
        while True:
            page = self._table.query(**query)
            found += [item["member_id"] for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- reads ----------------------------------------------------------------------------------
    def get_member(self, member_id: str) -> Member | None:
        item = self._table.get_item(Key={"PK": member_pk(member_id), "SK": PROFILE}).get("Item")
        if item is not None and item.get("status") == ERASED:
            raise MemberErased(f"member {member_id} was erased")
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
    def _erasure_key(member_id: str) -> dict[str, str]:
        return {"PK": member_pk(member_id), "SK": ERASURE}

    def _erasure_item(self, record: ErasureRecord) -> dict[str, Any]:
        item = {**self._erasure_key(record.member_id), "entity": "erasure",
                **drop_none(record.model_dump(mode="json"))}
        if record.status == "scheduled" and record.erase_after is not None:  # the daily job finds it by its day
            due = record.erase_after.astimezone(timezone.utc)
            item["GSI1PK"] = erasure_due_partition(due.date())
            item["GSI1SK"] = f"{due.isoformat()}#{record.member_id}"
        return item

    @staticmethod
    def _consent_item(member_id: str, consent: ConsentRecord) -> dict[str, Any]:
        return {
            "PK": member_pk(member_id),
            "SK": f"CONSENT#{consent.recorded_at.isoformat()}#{consent.kind.value}",
            "entity": "consent",
            **drop_none(consent.model_dump(mode="json")),
        }


class DynamoExportRepository:
    """Export records: `MEMBER#<id>/EXPORT#<export_id>`, expiring with their documents."""

    def __init__(self, table):
        self._table = table
        self._client = table.meta.client

    def put_export(self, record: ExportRecord, before: ExportRecord | None) -> bool:
        item = {"PK": member_pk(record.member_id), "SK": f"EXPORT#{record.export_id}", "entity": "member_export",
                "expires_at": int(record.requested_at.timestamp()) + EXPORT_RECORD_SECONDS,
                **drop_none(record.model_dump(mode="json"))}
        put: dict[str, Any] = {"TableName": self._table.name, "Item": item}
        if before is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put.update(ConditionExpression="#v = :v", ExpressionAttributeNames={"#v": "version"},
                       ExpressionAttributeValues={":v": before.version})
        try:
            self._client.put_item(**put)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_export(self, member_id: str, export_id: str) -> ExportRecord | None:
        item = self._table.get_item(Key={"PK": member_pk(member_id), "SK": f"EXPORT#{export_id}"},
                                    ConsistentRead=True).get("Item")
        return ExportRecord.model_validate(plain(strip_keys(item))) if item else None

    def member_exports(self, member_id: str) -> list[ExportRecord]:
        """A member's exports of the last week (older ones expire): a handful at most."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(member_pk(member_id)) & Key("SK").begins_with("EXPORT#"),
            ConsistentRead=True)
        return [ExportRecord.model_validate(plain(strip_keys(i))) for i in response["Items"]]

    def delete_export(self, member_id: str, export_id: str) -> None:
        self._table.delete_item(Key={"PK": member_pk(member_id), "SK": f"EXPORT#{export_id}"})

