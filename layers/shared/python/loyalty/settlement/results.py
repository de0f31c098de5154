"""What the settlement report answers; each model is also the OpenAPI schema of its response."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, WithJsonSchema

from loyalty.kernel.models import IsoDateTime, Result

Money = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json"),
                  WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["12.50"]})]
"""An amount in the program's currency, to the cent, written as a decimal string."""


class SettlementFigures(Result):
    issued: int = Field(description="Points earned (purchases, activities, bonuses, adjustments adding points), "
                                    "pending ones included, at the store where they were earned")
    returned: int = Field(description="Points taken back by returns, at the store of the purchase returned")
    redeemed: int = Field(description="Points redeemed for rewards at the store, less cancelled redemptions")
    expired: int = Field(description="Points that expired, at the store that issued them")
    captured: int = Field(description="Points paid at the till (reserved, then captured) at the store, less "
                                      "points refunded for returned goods")


class Position(Result):
    counterparty: str = Field(description="The other store; '*' is the chain itself (points earned outside any store)")
    receivable_points: int = Field(description="The counterparty's points spent at this store: it owes their value")
    payable_points: int = Field(description="This store's points spent at the counterparty: this store owes their value")
    net_points: int = Field(description="receivable - payable: above 0 the counterparty pays this store, "
                                        "below 0 this store pays the counterparty")
    net_amount: Money = Field(description="net_points in the program's currency at its points_per_currency_unit")


class StoreSettlement(SettlementFigures):
    store_id: str = Field(description="A store, or '*' for the chain itself")
    net_points: int = Field(description="The sum of the store's net positions")
    net_amount: Money = Field(description="The sum of the positions' net amounts (each rounded to the cent)")
    positions: list[Position] = Field(description="Against every store points moved between, by counterparty")


class SettlementReport(Result):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    store_id: str | None
    timezone: str = Field(description="Days are the program's local calendar days of when entries were recorded")
    currency: str
    points_per_currency_unit: int = Field(description="The program's rate: this many points are one currency unit")
    generated_at: IsoDateTime
    totals: SettlementFigures = Field(description="The figures of the stores listed")
    stores: list[StoreSettlement]

    model_config = {"populate_by_name": True}

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
