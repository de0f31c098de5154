"""Fixtures for the rewards component tests: a catalogue, members with points."""
from __future__ import annotations

import itertools

import pytest

from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import AdjustmentRequest
from tests.component.points.conftest import enroll
from tests.conftest import BACKOFFICE

ADMIN = ClientIdentity.from_context(BACKOFFICE)
_ids = itertools.count(1)

VOUCHER_TERMS = {"discount": "amount_off", "amount_off": "20.00", "min_spend": "100.00", "valid_days": 30}


def reward_body(reward_id: str, **changes) -> dict:
    body = {"reward_id": reward_id, "name": {"zh": "满100减20券", "en": "20 off 100"}, "kind": "voucher",
            "points_cost": 100, "voucher": dict(VOUCHER_TERMS)}
    body.update(changes)
    return body


def give_points(services, member_id: str, points: int) -> None:
    request = AdjustmentRequest(adjustment_id=f"seed-{next(_ids)}", points=points, reason="test balance",
                                store_id="SH-JINGAN")
    services.points_service.adjust(member_id, request, ADMIN)


@pytest.fixture
def rich_member(services) -> str:
    member_id = enroll(services)
    give_points(services, member_id, 1000)
    return member_id
