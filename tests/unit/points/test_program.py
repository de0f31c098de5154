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
