"""Program rules as configuration: validation and a lossless round trip through their stored form."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from loyalty.points.program import DEFAULT_RULES, ProgramRules, ProgramRulesInput, Promotion


def test_default_rules_survive_the_json_round_trip_they_are_stored_in():
    assert ProgramRules.model_validate(DEFAULT_RULES.model_dump(mode="json")) == DEFAULT_RULES
    assert DEFAULT_RULES.tier_multiplier("base") == 1
    assert DEFAULT_RULES.late_purchase_days == 7 and DEFAULT_RULES.activation_delay_days == 0


@pytest.mark.parametrize("changes, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"tier_multipliers": {"gold": "1.5"}}, "tier_multipliers"),
    ({"base_rate": "-1"}, "base_rate"),
    ({"currency": "yuan"}, "currency"),
    ({"per_purchase_cap": 0}, "per_purchase_cap"),
    ({"activities": {"check_in": {"points": 5, "daily_cap": 0}}}, "activities"),
])
def test_invalid_rules_name_the_field(changes, field):
    with pytest.raises(ValidationError) as error:
        ProgramRulesInput.model_validate({**DEFAULT_RULES.model_dump(mode="json"), **changes})
    assert error.value.errors()[0]["loc"][0] == field


def test_a_promotion_must_do_something_and_end_after_it_starts():
    with pytest.raises(ValidationError):
        Promotion(promotion_id="p", name="nothing")
    with pytest.raises(ValidationError):
        Promotion(promotion_id="p", name="x", multiplier=Decimal(2), starts_on=date(2026, 12, 1),
                  ends_on=date(2026, 11, 1))


def test_promotion_ids_are_unique():
    promo = {"promotion_id": "p", "name": "x", "bonus_points": 5}
    with pytest.raises(ValidationError):
        ProgramRulesInput.model_validate({**DEFAULT_RULES.model_dump(mode="json"), "promotions": [promo, promo]})


# -- expiry policies ------------------------------------------------------------------------------------
def rules_with(**changes) -> ProgramRules:
    return ProgramRules.model_validate({**DEFAULT_RULES.model_dump(mode="json"), **changes})


def test_points_expire_on_a_rolling_24_months_by_default():
    assert (DEFAULT_RULES.expiry_policy.value, DEFAULT_RULES.expiry_months, DEFAULT_RULES.expiry_notice_days) == (
        "rolling_months", 24, 30)
    assert DEFAULT_RULES.expiry_month(date(2026, 11, 18)) == "2028-11"
    assert rules_with(expiry_months=1).expiry_month(date(2026, 12, 31)) == "2027-01"


def test_end_of_next_year_expires_every_day_of_a_year_on_the_last_day_of_the_next():
    rules = rules_with(expiry_policy="end_of_next_year")
    assert rules.expiry_month(date(2026, 1, 1)) == rules.expiry_month(date(2026, 12, 31)) == "2027-12"
    assert rules.expiry_months is None  # it counts for rolling_months only: stored as null
    assert ProgramRules.model_validate(rules.model_dump(mode="json")) == rules


def test_never_expires_nothing():
    rules = rules_with(expiry_policy="never")
    assert (rules.points_expire, rules.expiry_month(date(2026, 11, 18)), rules.expiry_months) == (False, None, None)


def test_expiry_months_null_still_means_never():
    stored_before_policies = {k: v for k, v in DEFAULT_RULES.model_dump(mode="json").items() if k != "expiry_policy"}
    assert rules_with(**{**stored_before_policies, "expiry_months": None}).expiry_policy.value == "never"
    older = {k: v for k, v in stored_before_policies.items() if k not in ("expiry_notice_days",)}
    assert ProgramRules.model_validate({**older, "expiry_months": None}).expiry_policy.value == "never"
    assert ProgramRules.model_validate(older).expiry_policy.value == "rolling_months"  # 24 months, as before
    # a client that sends back what it read and only clears expiry_months means the same
    assert rules_with(expiry_policy="rolling_months", expiry_months=None).expiry_policy.value == "never"


@pytest.mark.parametrize("changes, field", [
    ({"expiry_policy": "end_of_year"}, "expiry_policy"),
    ({"expiry_months": 0}, "expiry_months"),
    ({"expiry_notice_days": -1}, "expiry_notice_days"),
    ({"expiry_notice_days": 181}, "expiry_notice_days"),
    ({"expiry_notice_days": True}, "expiry_notice_days"),
])
def test_invalid_expiry_rules_name_the_field(changes, field):
    with pytest.raises(ValidationError) as error:
        ProgramRulesInput.model_validate({**DEFAULT_RULES.model_dump(mode="json"), **changes})
    assert error.value.errors()[0]["loc"][0] == field
