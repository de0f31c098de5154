from __future__ import annotations

from pydantic import Field, model_validator

from loyalty.domain.members import StrictModel


class MemberLookup(StrictModel):
    """What a cashier has: the phone number the shopper says, or the card the shopper shows."""

    phone: str | None = Field(default=None, min_length=5, max_length=32)
    card_number: str | None = Field(default=None, min_length=16, max_length=19)

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.phone is None) == (self.card_number is None):
            raise ValueError("give exactly one of phone or card_number")
        return self
