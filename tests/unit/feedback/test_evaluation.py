"""The built-in dictionaries on the labelled set (tests/data/feedback_eval.jsonl): the figures
bench/feedback_eval.py writes to docs/feedback-classifier.md must stay true."""
from __future__ import annotations

from collections import Counter

from bench.feedback_eval import evaluate, figures, load
from loyalty.feedback.domain import FeedbackCategory


def test_the_labelled_set_covers_every_category_language_urgency_and_kind():
    examples = load()
    categories = Counter(e["category"] for e in examples)

    assert len(examples) >= 300
    assert set(categories) == {c.value for c in FeedbackCategory} and min(categories.values()) >= 25
    assert {e["lang"] for e in examples} == {"zh", "en"} and {e["urgent"] for e in examples} == {True, False}
    assert {e["kind"] for e in examples} >= {"complaint", "suggestion", "praise"}
    assert len({e["text"] for e in examples}) == len(examples)


def test_primary_category_accuracy_is_at_least_90_percent_and_no_urgent_text_is_missed():
    outcomes, _ = evaluate(load())
    result = figures(outcomes)

    assert result["accuracy"] >= 0.90
    assert result["urgent_missed"] == []
    assert all(row["recall"] >= 0.75 for row in result["per_category"].values())
