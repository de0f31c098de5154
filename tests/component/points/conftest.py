"""Fixtures for the points component tests: enrolled members, purchase bodies, rule changes."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from loyalty.kernel.identity import ClientIdentity
from loyalty.members.domain import EnrollmentRequest
from loyalty.points.program import ProgramRulesInput
from tests.conftest import BACKOFFICE, POS_SH, api_event, response_json

_phones = itertools.count(13800000000)

MEMBER_PATH = "/v1/members/{member_id}"


def enroll(services, *, store_id: str = "SH-JINGAN", referral_code: str | None = None, client=POS_SH) -> str:
    request = EnrollmentRequest(
        phone=str(next(_phones)), store_id=store_id, channel="pos", referral_code=referral_code,
        consents={"data_processing": {"granted": True, "policy_version": "2026-01"}},
    )
    outcome = services.member_service.enroll(request, ClientIdentity.from_context(client), None)
    return outcome.member.body()["member_id"]


def line(sku: str = "SKU-1", category: str = "apparel", quantity: int = 1, unit_price: str = "100.00",
         amount: str | None = None, discounted: bool = False) -> dict:
    amount = amount if amount is not None else str(Decimal(unit_price) * quantity)
    return {"sku": sku, "category": category, "quantity": quantity, "unit_price": unit_price,
            "amount": amount, "discounted": discounted}


def purchase_body(order_id: str, *lines: dict, store_id: str = "SH-JINGAN", occurred_at: datetime,
                  channel: str = "pos", currency: str = "CNY") -> dict:
    lines = list(lines) or [line()]
    return {
        "order_id": order_id, "store_id": store_id, "channel": channel,
        "occurred_at": occurred_at.isoformat(), "currency": currency, "lines": lines,
        "total": str(sum(Decimal(x["amount"]) for x in lines)), "payment_method": "wechat_pay",
    }


@pytest.fixture
def warm_requests(services):
    """What the points adapter sends DynamoDB once a container is warm (rules and stores cached):
    a list of (operation name, parameters) that fills as calls are made."""
    services.program_rules.current()
    services.tier_ladder.current()
    services.cached_stores.get_store("SH-JINGAN")
    sent: list[tuple[str, dict]] = []
    services.table.meta.client.meta.events.register(
        "provide-client-params.dynamodb.*", lambda params, model, **_: sent.append((model.name, params)))
    return sent


def set_rules(services, **changes) -> dict:
    """Replace the program rules with the current ones plus `changes`, as the back office would."""
    current = services.program_rules.current()
    data = {**current.model_dump(), **changes, "version": current.version}
    return services.program_admin.replace_rules(ProgramRulesInput.model_validate(data),
                                                 ClientIdentity.from_context(BACKOFFICE)).view()


def call(handler_module, ctx, method: str, resource: str, *, member_id: str | None = None, body=None,
         query: dict | None = None, client=POS_SH) -> tuple[int, dict]:
    params = {"member_id": member_id} if member_id else None
    response = handler_module.handler(
        api_event(method, resource, path_params=params, body=body, query=query, client=client), ctx)
    return response["statusCode"], response_json(response)


def ago(clock, **delta) -> datetime:
    return clock.now() - timedelta(**delta)


@pytest.fixture
def member(services) -> str:
    return enroll(services)
