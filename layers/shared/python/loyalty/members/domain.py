"""Members: enrollment input, the member record, consents and profile changes."""
import re
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Literal

from pydantic import ConfigDict, BaseModel, StrictBool, Field, field_validator, model_validator

from loyalty.kernel.models import Result, StoreId, StrictModel

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Channel(str, Enum):
    POS = "pos"
    WEBSHOP = "webshop"
    APP = "app"
    EVENT = "event"
    REFERRAL = "referral"
    IMPORT = "import"


class Gender(str, Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


class ConsentKind(str, Enum):
    DATA_PROCESSING = "data_processing"
    MARKETING = "marketing"


class ConsentInput(StrictModel):
    granted: StrictBool
    policy_version: str = Field(min_length=1, max_length=32, description="Version of the privacy policy shown")


class EnrollmentConsents(StrictModel):
    data_processing: ConsentInput = Field(description="Required, and must be granted to enroll")
    marketing: ConsentInput | None = Field(default=None, description="Optional marketing opt-in")

    @field_validator("data_processing")
    @classmethod
    def _must_grant_processing(cls, value: ConsentInput) -> ConsentInput:
        if not value.granted:
            raise ValueError("data processing consent must be granted to enroll")
        return value


def _check_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


def _check_birthday(value: date | None) -> date | None:
    if value is not None and (value > date.today() or value.year < 1900):
        raise ValueError("birthday must be a past date after 1900")
    return value


class Address(StrictModel):
    city: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=64)
    line: str | None = Field(default=None, max_length=256)
    postal_code: str | None = Field(default=None, max_length=16)


class EnrollmentRequest(StrictModel):
    phone: str = Field(min_length=5, max_length=32, description="Mobile number; normalised to E.164 (default country +86)")
    name: str | None = Field(default=None, min_length=1, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    gender: Gender | None = None
    birthday: date | None = None
    address: Address | None = None
    store_id: StoreId = Field(description="Store where the member enrolls (the webshop and app have store ids too)")
    channel: Channel
    interests: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list, max_length=20)
    referral_code: str | None = Field(default=None, min_length=4, max_length=16, description="Referral code of an existing member")
    consents: EnrollmentConsents

    _email = field_validator("email")(classmethod(lambda cls, v: _check_email(v)))
    _birthday = field_validator("birthday")(classmethod(lambda cls, v: _check_birthday(v)))


class MemberPatch(StrictModel):
    """Profile changes; absent fields stay as they are. Phone changes are a separate, verified flow."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    gender: Gender | None = None
    birthday: date | None = None
    address: Address | None = None
    interests: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(default=None, max_length=20)
    consents: dict[ConsentKind, ConsentInput] | None = Field(
        default=None, description="Withdrawing `data_processing` schedules the member's erasure after the grace "
                                  "period (status `erasure_scheduled`); granting it again within the period "
                                  "cancels the erasure")

    _email = field_validator("email")(classmethod(lambda cls, v: _check_email(v)))
    _birthday = field_validator("birthday")(classmethod(lambda cls, v: _check_birthday(v)))


class ConsentRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: ConsentKind
    granted: bool
    policy_version: str
    recorded_at: datetime
    channel: Channel | None = None
    store_id: str | None = None
    client_id: str | None = None


class Member(BaseModel):
    model_config = ConfigDict(defer_build=True)

    member_id: str
    card_number: str
    referral_code: str
    phone: str
    name: str | None = None
    email: str | None = None
    gender: Gender | None = None
    birthday: date | None = None
    address: Address | None = None
    interests: list[str] = Field(default_factory=list)
    enrolled_store_id: str
    enrolled_channel: Channel
    enrolled_at: datetime
    referred_by: str | None = None
    tier: str = "base"
    status: Literal["active", "erasure_scheduled"] = Field(
        default="active", description="erasure_scheduled: data-processing consent withdrawn, erased after the "
                                      "grace period unless given again")
    consents: dict[ConsentKind, ConsentRecord]
    version: int = 1
    updated_at: datetime

    def apply_patch(self, patch: MemberPatch, *, now: datetime, client_id: str) -> tuple["Member", list[ConsentRecord]]:
        """Return the changed member and the consent records the change adds to the history."""
        # Field values, not model_dump: a dumped Address would be a dict and never equal the stored one.
        changes = {name: getattr(patch, name) for name in patch.model_fields_set if name != "consents"}
        if "interests" in changes and changes["interests"] is None:
            changes["interests"] = []  # null clears the list; the member's interests are never None
        updated = self.model_copy(update=changes)
        new_consents: list[ConsentRecord] = []
        if patch.consents:
            consents = dict(self.consents)
            for kind, consent in patch.consents.items():
                record = ConsentRecord(
                    kind=kind, granted=consent.granted, policy_version=consent.policy_version,
                    recorded_at=now, client_id=client_id,
                )
                consents[kind] = record
                new_consents.append(record)
            updated = updated.model_copy(update={"consents": consents})
        updated = updated.model_copy(update={"version": self.version + 1, "updated_at": now})
        return updated, new_consents

    def changed_fields(self, other: "Member") -> list[str]:
        ignored = {"version", "updated_at"}
        return sorted(k for k in type(self).model_fields if k not in ignored and getattr(self, k) != getattr(other, k))


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    hidden = max(len(text) - keep_start - keep_end, 1)
    return text[:keep_start] + "*" * hidden + (text[len(text) - keep_end:] if keep_end else "")


class MemberView(Member):  # the member as the API shows it
    card_barcode: str = Field(description="Value to encode in the member's QR code or Code 128 barcode")

    def masked(self) -> "MemberView":
        """What a client without `members:pii` sees: enough to recognise the member, not to contact them
        (phone +86138****5678, email l***@example.com, name 李*), no birthday, address or interests."""
        local, _, domain = (self.email or "").partition("@")
        return self.model_copy(update={
            "phone": _mask(self.phone, 6, 4),
            "email": f"{local[:1]}***@{domain}" if self.email else None,
            "name": _mask(self.name, 1, 0) if self.name else None,
            "birthday": None, "address": None, "interests": []})

    def body(self) -> dict:
        return self.model_dump(mode="json", exclude={"version"})


class AccessRecord(BaseModel):
    """A back-office client saw a member's personal data in clear (no personal data itself)."""

    model_config = ConfigDict(defer_build=True)

    member_id: str
    client_id: str
    action: str = Field(description="read, lookup, update")
    at: datetime


class AccessLog(Result):
    member_id: str
    items: list[AccessRecord] = Field(description="Newest first, the last 100")

    def body(self) -> dict:
        return self.model_dump(mode="json")


class ConsentHistory(Result):
    items: list[ConsentRecord] = Field(description="Newest first")

    def body(self) -> dict:
        return self.model_dump(mode="json")


class MemberLookup(StrictModel):
    """What a cashier has: the phone number the shopper says, or the card the shopper shows."""

    phone: str | None = Field(default=None, min_length=5, max_length=32)
    card_number: str | None = Field(default=None, min_length=16, max_length=19)

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.phone is None) == (self.card_number is None):
            raise ValueError("give exactly one of phone or card_number")
        return self
