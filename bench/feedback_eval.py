"""How well the built-in dictionaries classify the labelled feedback in tests/data/feedback_eval.jsonl:
per-category precision and recall, accuracy of the primary category, urgent cases caught, time per text.

    PYTHONPATH=layers/shared/python .venv/bin/python -m bench.feedback_eval             # figures
    PYTHONPATH=layers/shared/python .venv/bin/python -m bench.feedback_eval --errors    # and every miss
    PYTHONPATH=layers/shared/python .venv/bin/python -m bench.feedback_eval --write     # docs/feedback-classifier.md

Each line of the set: `text`, `kind` (complaint, suggestion, praise), `category` (the primary one a person
gave it), `urgent` (health, safety, injury or a legal threat), `lang` (zh or en). Urgency is judged on the
text alone: no rating, no member history.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests/data/feedback_eval.jsonl"
DOC = ROOT / "docs/feedback-classifier.md"


@dataclass
class Outcome:
    example: dict
    predicted: str
    urgent: bool
    seconds: float


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(examples: list[dict], config=None) -> tuple[list[Outcome], float]:
    """Classify every example; returns the outcomes and the seconds the first text took (the words load)."""
    from loyalty.feedback.classify import assess
    from loyalty.feedback.config import default_feedback_config
    from loyalty.feedback.domain import FeedbackKind, Urgency
    from loyalty.feedback.segment import JiebaSegmenter

    config = config or default_feedback_config()
    words = JiebaSegmenter()
    received = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)
    first = time.perf_counter()
    assess(text="加载", kind=FeedbackKind.COMPLAINT, rating=None, nps=None, received_at=received, config=config,
           words=words)
    first = time.perf_counter() - first
    outcomes = []
    for example in examples:
        start = time.perf_counter()
        result = assess(text=example["text"], kind=FeedbackKind(example["kind"]), rating=None, nps=None,
                        received_at=received, config=config, words=words)
        outcomes.append(Outcome(example, result.primary_category.value, result.urgency == Urgency.URGENT,
                                time.perf_counter() - start))
    return outcomes, first


def figures(outcomes: list[Outcome]) -> dict:
    from loyalty.feedback.domain import FeedbackCategory

    per_category = {}
    for category in (c.value for c in FeedbackCategory):
        truth = [o for o in outcomes if o.example["category"] == category]
        predicted = [o for o in outcomes if o.predicted == category]
        right = sum(1 for o in truth if o.predicted == category)
        per_category[category] = {
            "texts": len(truth), "precision": right / len(predicted) if predicted else None,
            "recall": right / len(truth) if truth else None,
        }
    urgent = [o for o in outcomes if o.example["urgent"]]
    flagged = [o for o in outcomes if o.urgent]
    times = sorted(o.seconds for o in outcomes)
    by_lang = {}
    for lang in sorted({o.example["lang"] for o in outcomes}):
        group = [o for o in outcomes if o.example["lang"] == lang]
        by_lang[lang] = (len(group), sum(o.predicted == o.example["category"] for o in group) / len(group))
    return {
        "texts": len(outcomes),
        "accuracy": sum(o.predicted == o.example["category"] for o in outcomes) / len(outcomes),
        "by_lang": by_lang,
        "per_category": per_category,
        "urgent_texts": len(urgent),
        "urgent_missed": [o.example["text"] for o in urgent if not o.urgent],
        "urgent_precision": sum(1 for o in flagged if o.example["urgent"]) / len(flagged) if flagged else None,
        "false_urgent": [o.example["text"] for o in flagged if not o.example["urgent"]],
        "median_ms": statistics.median(times) * 1000,
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def report(result: dict, first_seconds: float) -> str:
    lines = [
        f"{result['texts']} labelled texts ({', '.join(f'{n} {lang}' for lang, (n, _) in result['by_lang'].items())}): "
        f"primary category accuracy {_pct(result['accuracy'])} "
        f"({', '.join(f'{lang} {_pct(acc)}' for lang, (_, acc) in result['by_lang'].items())})",
        f"urgent: {result['urgent_texts']} texts, {len(result['urgent_missed'])} missed, "
        f"{len(result['false_urgent'])} flagged that a person did not (precision {_pct(result['urgent_precision'])})",
        f"time per text: median {result['median_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; "
        f"the first text in a process {first_seconds * 1000:.0f} ms (loads jieba and its words)",
        "",
        "| category | texts | precision | recall |",
        "|---|---:|---:|---:|",
    ]
    for category, row in result["per_category"].items():
        lines.append(f"| {category} | {row['texts']} | {_pct(row['precision'])} | {_pct(row['recall'])} |")
    return "\n".join(lines)


DOC_HEAD = """# Feedback classifier: figures on the labelled set

Generated by `PYTHONPATH=layers/shared/python .venv/bin/python -m bench.feedback_eval --write` from
`tests/data/feedback_eval.jsonl` with the built-in dictionaries (`loyalty/feedback/lexicon.py`);
`tests/unit/feedback/test_evaluation.py` keeps accuracy at 90% or more and every urgent text caught.

The set: complaints, suggestions and praise as members write them at the till, in the app, on delivery
platforms and by e-mail, mostly Chinese, some English; every category; urgent texts (food poisoning,
allergies, foreign objects in food, injuries in store, fire and electricity, legal threats and the
authorities) and ordinary ones; negations (不慢, 没有破损, not rude); texts naming several categories, labelled
with the one the member complains about (虽然价格便宜，但是衣服质量太差了 → product_quality). Urgency is
judged on the text alone (a low rating or a repeat makes an item high, not urgent).

How it classifies: see the docstring of `loyalty/feedback/classify.py` and README's Feedback section.

```
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every misclassified or missed urgent text")
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    outcomes, first = evaluate(load())
    result = figures(outcomes)
    text = report(result, first)
    print(text)
    if args.errors:
        print("\nmisclassified:")
        for o in outcomes:
            if o.predicted != o.example["category"]:
                print(f"  {o.example['category']:>20} → {o.predicted:<20} {o.example['text']}")
        print("urgent missed:", *result["urgent_missed"], sep="\n  ")
        print("flagged urgent, not labelled so:", *result["false_urgent"], sep="\n  ")
    if args.write:
        table_start = text.index("| category")
        DOC.write_text(DOC_HEAD + text[:table_start].rstrip() + "\n```\n\n" + text[table_start:] + "\n",
                       encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
