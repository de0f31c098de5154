"""GET/PUT /v1/program/rules through the handler, on moto."""
from __future__ import annotations

import points
import program
from tests.component.points.conftest import ago, call, line, purchase_body
from tests.conftest import BACKOFFICE, POS_SH

RULES = "/v1/program/rules"


def get_rules(ctx, client=BACKOFFICE):
    return call(program, ctx, "GET", RULES, client=client)


def put_rules(ctx, body, client=BACKOFFICE):
    return call(program, ctx, "PUT", RULES, body=body, client=client)


def test_defaults_apply_until_rules_are_stored(services, ctx):
    status, rules = get_rules(ctx)
    assert status == 200
    assert rules["version"] == 0 and rules["currency"] == "CNY" and rules["base_rate"] == "1"
    assert "gift_card" in rules["excluded_categories"]
    assert rules["activities"]["check_in"] == {"points": 5, "daily_cap": 1, "monthly_cap": None}


def test_rules_are_replaced_with_an_optimistic_version_check(services, ctx, member, clock):
    _, rules = get_rules(ctx)
    rules["base_rate"] = "2"
    status, stored = put_rules(ctx, rules)
    assert status == 200 and stored["version"] == 1 and stored["base_rate"] == "2"
    assert get_rules(ctx)[1]["version"] == 1

    stale = dict(rules, base_rate="3")  # still says version 0
    status, result = put_rules(ctx, stale)
    assert status == 409 and result["error"]["code"] == "RULES_VERSION_CONFLICT"

    status, earned = call(points, ctx, "POST", "/v1/members/{member_id}/purchases", member_id=member,
                          body=purchase_body("O-1", line(), occurred_at=ago(clock, hours=1)))
    assert earned["points"] == 200 and earned["rules_version"] == 1


def test_earlier_versions_are_kept_for_audit(services, ctx):
    _, rules = get_rules(ctx)
    put_rules(ctx, dict(rules, welcome_bonus=50))
    item = services.table.get_item(Key={"PK": "PROGRAM", "SK": "RULES#v000001"})["Item"]
    assert item["updated_by"] == "backoffice" and item["rules"]["welcome_bonus"] == 50


def test_only_program_admins_read_or_change_the_rules(services, ctx):
    _, rules = get_rules(ctx)
    assert get_rules(ctx, client=POS_SH)[0] == 403
    assert put_rules(ctx, rules, client=POS_SH)[0] == 403


def test_invalid_rules_are_a_400_naming_the_field(services, ctx):
    _, rules = get_rules(ctx)
    status, result = put_rules(ctx, dict(rules, timezone="Mars/Olympus"))
    assert status == 400 and result["error"]["field"] == "timezone"
    status, result = put_rules(ctx, dict(rules, promotions=[{"promotion_id": "p", "name": "does nothing"}]))
    assert status == 400 and result["error"]["field"].startswith("promotions.0")
    status, result = put_rules(ctx, dict(rules, tier_multipliers={"gold": "1.5"}))
    assert status == 400 and result["error"]["field"] == "tier_multipliers"
    assert put_rules(ctx, dict(rules, base_rate=1.5))[0] == 200  # a JSON number is taken as a Decimal too
