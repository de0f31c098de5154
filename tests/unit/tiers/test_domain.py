"""The ladder's validation and the rules that move a member's standing."""
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from loyalty.kernel.standing import QualifyingFact
from loyalty.tiers.domain import Standing, progress, qualifying_tier, record, review, set_by_hand, window_figures
from loyalty.tiers.ladder import Ladder, LadderInput, default_ladder

TODAY = date(2026, 6, 15)


def ladder(**changes) -> Ladder:
    return Ladder.model_validate({**default_ladder().model_dump(), **changes})


def buy(standing, ladder_, amount, day=TODAY, order="O-1", today=None):
    fact = QualifyingFact(kind="purchase", reference_id=order, day=day, today=today or day, spend=Decimal(amount),
                          visit=True)
    return record(ladder_, standing, fact, today or day)


def test_thresholds_must_rise_with_the_ladder():
    data = default_ladder().model_dump(mode="json")
    data["tiers"][2]["criteria"]["spend"] = "900"  # silver below bronze's 1000
    with pytest.raises(ValidationError, match="spend threshold must be above bronze"):
        LadderInput.model_validate(data)


def test_the_lowest_tier_has_no_criteria_and_every_other_one_has():
    data = default_ladder().model_dump(mode="json")
    data["tiers"][0]["criteria"] = {"spend": "1"}
    with pytest.raises(ValidationError, match="lowest tier"):
        LadderInput.model_validate(data)
    data = default_ladder().model_dump(mode="json")
    data["tiers"][1]["criteria"] = None
    with pytest.raises(ValidationError, match="bronze needs criteria"):
        LadderInput.model_validate(data)


def test_any_or_all_criteria():
    any_ladder = default_ladder()
    figures = window_figures(any_ladder, Standing(tier="base", months={"2026-06": {"spend": "10", "visits": 12}}),
                             TODAY)
    assert qualifying_tier(any_ladder, figures, TODAY) == "bronze"  # 12 visits are enough on their own
    data = any_ladder.model_dump(mode="json")
    data["tiers"][1]["criteria"]["mode"] = "all"
    assert qualifying_tier(Ladder.model_validate(data), figures, TODAY) == "base"


def test_a_purchase_that_crosses_a_threshold_upgrades_at_once_and_says_from_what():
    standing = Standing(tier="base")
    assert buy(standing, default_ladder(), "999.99") is None
    move = buy(standing, default_ladder(), "0.01", order="O-2")
    assert (move.before, move.after, move.reason, move.reference_id) == ("base", "bronze", "purchase", "O-2")
    assert standing.tier == "bronze" and standing.since == TODAY and standing.review_on == date(2027, 6, 15)


def test_a_big_purchase_can_skip_tiers():
    standing = Standing(tier="base")
    move = buy(standing, default_ladder(), "5200")
    assert move.after == "gold"


def test_visits_are_distinct_days_and_the_figures_keep_only_the_window():
    l = default_ladder()
    standing = Standing(tier="base")
    buy(standing, l, "10", day=date(2025, 6, 30), today=date(2025, 6, 30))
    buy(standing, l, "10", day=date(2026, 6, 1))
    buy(standing, l, "10", day=date(2026, 6, 1), order="O-2")  # same day: one visit
    buy(standing, l, "10", day=date(2026, 6, 2), order="O-3")
    assert set(standing.months) == {"2026-06"}  # June 2025 fell out of the 12-month window
    assert window_figures(l, standing, TODAY).visits == 2
    assert window_figures(l, standing, TODAY).spend == Decimal(30)


def test_returning_the_purchase_that_upgraded_takes_the_upgrade_back():
    l = default_ladder()
    standing = Standing(tier="base")
    buy(standing, l, "400", order="O-1")
    assert buy(standing, l, "700", order="O-2").after == "bronze"
    move = record(l, standing, QualifyingFact(kind="return", reference_id="O-2", day=TODAY, today=TODAY,
                                              spend=Decimal(-700)), TODAY)
    assert (move.before, move.after, move.reason) == ("bronze", "base", "return")


def test_progress_names_what_is_missing_per_criterion():
    l = default_ladder()
    standing = Standing(tier="bronze", months={"2026-06": {"spend": "2500", "visits": 20}})
    shown = progress(l, standing, TODAY)
    assert shown["tier"] == "silver" and shown["mode"] == "any"
    assert {c["criterion"]: c["missing"] for c in shown["criteria"]} == {"spend": "500", "visits": "4"}
    assert progress(l, Standing(tier="gold"), TODAY) is None


def test_a_threshold_promotion_lowers_the_thresholds_for_its_dates():
    l = ladder(threshold_promotions=[{"promotion_id": "double-11", "starts_on": "2026-11-01",
                                      "ends_on": "2026-11-30", "factor": "0.8"}])
    standing = Standing(tier="base")
    assert buy(standing, l, "800", day=date(2026, 10, 31)) is None
    standing = Standing(tier="base")
    assert buy(standing, l, "800", day=date(2026, 11, 11)).after == "bronze"


def test_a_review_drops_at_most_the_configured_levels():
    l = default_ladder()
    standing = Standing(tier="gold", since=date(2025, 6, 15), review_on=TODAY)
    outcome = review(l, standing, TODAY)
    assert (outcome.move.before, outcome.move.after) == ("gold", "silver")
    standing = Standing(tier="gold", since=date(2025, 6, 15), review_on=TODAY)
    outcome = review(ladder(max_drop_levels=3), standing, TODAY)
    assert outcome.move.after == "base"


def test_a_review_keeps_a_tier_whose_figures_still_hold_and_sets_the_next_one():
    l = default_ladder()
    standing = Standing(tier="silver", review_on=TODAY, months={"2026-03": {"spend": "3100"}})
    outcome = review(l, standing, TODAY)
    assert outcome.move is None and outcome.changed
    assert standing.review_on == date(2027, 6, 15)


def test_a_review_twice_on_the_same_day_changes_nothing_the_second_time():
    l = default_ladder()
    standing = Standing(tier="gold", review_on=TODAY)
    assert review(l, standing, TODAY).move is not None
    again = standing.model_copy(deep=True)
    assert review(l, again, TODAY).changed is False
    assert again == standing


def test_grace_keeps_the_tier_for_the_grace_days_then_drops():
    l = ladder(grace_days=30)
    standing = Standing(tier="silver", review_on=TODAY)
    outcome = review(l, standing, TODAY)
    assert outcome.move is None and standing.tier == "silver" and standing.review_on == date(2026, 7, 15)
    assert review(l, standing, date(2026, 7, 15)).move.after == "bronze"


def test_a_warning_goes_out_before_the_review_once_with_what_is_needed():
    l = default_ladder()
    standing = Standing(tier="silver", review_on=date(2026, 7, 10), months={"2026-06": {"spend": "2000"}})
    assert standing.next_check(l) == date(2026, 6, 10)
    outcome = review(l, standing, TODAY)
    assert outcome.warning["tier"] == "silver"
    assert {g["criterion"]: g["missing"] for g in outcome.warning["progress"]} == {"spend": "1000", "visits": "24"}
    assert standing.next_check(l) == date(2026, 7, 10)
    assert review(l, standing, TODAY).changed is False


def test_the_monthly_preset_drops_gold_below_800_in_a_month():
    l = ladder(review="monthly")
    standing = Standing(tier="base")
    buy(standing, l, "5000", day=date(2026, 5, 20), today=date(2026, 5, 20))
    assert standing.tier == "gold" and standing.review_on == date(2026, 6, 1)
    outcome = review(l, standing, date(2026, 6, 1))  # May: 5,000 spent: kept
    assert outcome.move is None and standing.review_on == date(2026, 7, 1)
    buy(standing, l, "799", day=date(2026, 6, 10), today=date(2026, 6, 10))
    outcome = review(l, standing, date(2026, 7, 1))  # June: 799 < 800
    assert (outcome.move.before, outcome.move.after) == ("gold", "silver")


def test_a_locked_member_is_left_alone_until_the_lock_ends():
    l = default_ladder()
    standing = Standing(tier="base")
    move = set_by_hand(l, standing, "gold", TODAY, lock_until=date(2026, 12, 31), reason="complaint recovery")
    assert move.after == "gold" and move.reason == "manual"
    assert standing.next_check(l) == date(2027, 1, 1)
    standing2 = Standing(tier="gold", lock={"until": "2026-12-31", "reason": "vip"}, review_on=date(2026, 7, 1))
    assert review(l, standing2, date(2026, 7, 1)).changed is False
    outcome = review(l, standing2, date(2027, 1, 1))
    assert (outcome.move.after, outcome.move.reason) == ("silver", "lock_expiry")
