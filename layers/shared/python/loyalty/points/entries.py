"""A ledger entry: one change to a member's points, as stored and as the ledger page answers it."""
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class EntryType(str, Enum):
    EARN = "earn"
    RETURN = "return"
    ACTIVITY = "activity"
    WELCOME = "welcome"
    REFERRAL = "referral"
    BIRTHDAY = "birthday"
    ADJUSTMENT = "adjustment"
    ACTIVATION = "activation"
    DEBT_REPAYMENT = "debt_repayment"
    EXPIRY = "expiry"
    REDEMPTION = "redemption"
    REDEMPTION_CANCEL = "redemption_cancel"
    RESERVATION = "reservation"
    CAPTURE = "capture"
    RELEASE = "release"
    PAYMENT_REFUND = "payment_refund"


CHAIN_ORIGIN = "*"  # points earned outside any store (bonuses, adjustments without a store)


class Reference(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: str = Field(description="purchase, return, activity, enrollment, referral, birthday, adjustment, lot, "
                                  "expiry, redemption, points_payment")
    id: str


class LedgerEntry(BaseModel):
    model_config = ConfigDict(defer_build=True)

    entry_id: str
    seq: int = Field(description="Position in the member's ledger; newest is highest")
    type: EntryType
    points: int = Field(description="Change to the member's points (available + reserved + pending)")
    available_change: int
    pending_change: int
    debt_change: int
    reserved_change: int = 0
    balance_after: int = Field(description="Available points after this entry")
    pending_after: int
    debt_after: int
    reserved_after: int = 0
    origins: dict[str, int] | None = Field(
        default=None, description="Spending, expiry and their reversals: points per earning store this entry "
                                  "took (negative) or gave back (positive); '*' is points earned outside any store")
    store_id: str | None = None
    reference: Reference
    reason: str
    occurred_at: datetime
    recorded_at: datetime
    client_id: str | None = None
