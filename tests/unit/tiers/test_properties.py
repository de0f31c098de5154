"""Property-based: whatever members do and whenever reviews run, a review drops at most the configured
levels, a review run twice on a day changes nothing the second time, upgrades never wait for a review, and
the tier held is what the ladder gave the figures at the last evaluation (or what a review kept)."""
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.kernel.standing import QualifyingFact
from loyalty.tiers.domain import Standing, qualifying_tier, record, review, window_figures
from loyalty.tiers.ladder import Ladder, default_ladder

START = date(2026, 1, 1)

steps = st.lists(st.tuples(
    st.integers(min_value=0, max_value=20),  # days that pass first
    st.sampled_from(["purchase", "return", "activity", "review"]),
    st.integers(min_value=1, max_value=3000),  # amount
), min_size=1, max_size=60)


def ladders():
    return st.builds(
        lambda review_policy, drop, grace, warn: Ladder.model_validate({
            **default_ladder().model_dump(), "review": review_policy, "max_drop_levels": drop,
            "grace_days": grace, "warning_days": warn}),
        st.sampled_from(["anniversary", "monthly"]), st.integers(1, 3), st.sampled_from([0, 10]),
        st.sampled_from([0, 30]))


@settings(max_examples=150, deadline=None)
@given(ladder=ladders(), plan=steps)
def test_tier_rules_hold_over_any_history(ladder, plan):
    standing = Standing(tier=ladder.lowest)
    day = START
    bought: list[tuple[str, date, int]] = []
    for n, (wait, kind, amount) in enumerate(plan):
        day += timedelta(days=wait)
        if kind == "review":
            before = standing.model_copy(deep=True)
            outcome = review(ladder, standing, day)
            if outcome.move is not None and not outcome.move.up:
                assert ladder.level(before.tier) - ladder.level(standing.tier) <= ladder.max_drop_levels
            again = standing.model_copy(deep=True)
            assert review(ladder, again, day).changed is False  # a second run the same day: nothing
            assert again == standing
            continue
        if kind == "return":
            if not bought:
                continue
            order, bought_on, spent = bought.pop()
            fact = QualifyingFact(kind="return", reference_id=order, day=bought_on, today=day,
                                  spend=Decimal(-spent))
        elif kind == "purchase":
            order = f"O-{n}"
            bought.append((order, day, amount))
            fact = QualifyingFact(kind="purchase", reference_id=order, day=day, today=day, spend=Decimal(amount),
                                  visit=True)
        else:
            fact = QualifyingFact(kind="activity", reference_id=f"A-{n}", day=day, today=day,
                                  activity_type="event_attendance")
        before = standing.tier
        record(ladder, standing, fact, day, activity_weight=ladder.activity_weights.get("event_attendance", 0)
               if kind == "activity" else 0)
        earned = qualifying_tier(ladder, window_figures(ladder, standing, day), day)
        assert standing.evaluated == earned  # the last evaluation is the ladder applied to the figures
        if kind != "return":
            # upgrades never wait for a review: the tier held is at least what the figures earn
            assert ladder.level(standing.tier) >= ladder.level(earned)
            assert ladder.level(standing.tier) >= ladder.level(before)
        assert sum(1 for _ in standing.months) <= ladder.window_months  # the figures never grow
