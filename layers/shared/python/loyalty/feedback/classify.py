"""Classify, weigh and route a piece of feedback with the chain's keyword dictionaries. Pure functions.

Chinese keywords match as substrings (no tokenizer); English keywords match whole words,
case-insensitively. Keyword matching is deliberately simple and explainable: staff can see why an
item went where it did, and the chain tunes the dictionaries instead of retraining a model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from loyalty.feedback.domain import FeedbackCategory, FeedbackKind, Sentiment, Urgency
from loyalty.feedback.config import FeedbackConfig

# A Chinese sentiment word right after one of these (within two characters) means its opposite:
# 不满意, 服务不热情, 没有破损, 不太新鲜.
_ZH_NEGATORS = ("不", "没", "未", "别")
_ZH_NEGATION_WINDOW = 2
_EN_NEGATORS = {"not", "no", "never", "hardly", "without", "isn't", "wasn't", "aren't", "weren't", "don't",
                "doesn't", "didn't", "can't", "couldn't", "won't", "nothing"}
_EN_WORD_EDGE = r"A-Za-z0-9"
_EN_WORD = re.compile(r"[a-z']+")

URGENT_REASON_KEYWORD = "safety_keyword"
URGENT_REASON_RATING = "low_rating_complaint"
URGENT_REASON_NPS = "low_nps_complaint"


@dataclass(frozen=True)
class Assessment:
    categories: list[FeedbackCategory]
    primary_category: FeedbackCategory
    scores: dict[FeedbackCategory, int]
    sentiment: Sentiment
    urgency: Urgency
    urgency_reasons: list[str] = field(default_factory=list)
    department: str = ""
    due_at: datetime | None = None


@lru_cache(maxsize=2048)
def _english_pattern(keyword: str) -> re.Pattern:
    prefix = keyword.endswith("*")
    words = keyword.rstrip("*").split(" ")
    body = r"\s+".join(re.escape(w) for w in words)
    # Edges are ASCII letters and digits only, so "delivery" still matches in "快递delivery很慢".
    return re.compile(rf"(?<![{_EN_WORD_EDGE}]){body}{'[a-z0-9]*' if prefix else ''}(?![{_EN_WORD_EDGE}])",
                      re.IGNORECASE)


def _fold(text: str) -> str:
    return text.casefold().replace("\u2019", "'")


def _find(folded: str, keyword: str) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of `keyword` in the case-folded text."""
    if keyword.isascii():
        return [m.span() for m in _english_pattern(keyword).finditer(folded)]
    keyword = keyword.casefold()
    spans, start = [], folded.find(keyword)
    while start != -1:
        spans.append((start, start + len(keyword)))
        start = folded.find(keyword, start + len(keyword))
    return spans


def _matches(folded: str, keywords: list[str]) -> list[tuple[int, int, str]]:
    """Occurrences of the keywords; one inside a longer one counts once (优惠 within 优惠券)."""
    found = sorted(((a, b, k) for k in keywords for a, b in _find(folded, k)), key=lambda m: (m[0], -m[1]))
    kept: list[tuple[int, int, str]] = []
    for match in found:
        if not any(a <= match[0] and match[1] <= b for a, b, _ in kept):
            kept.append(match)
    return kept


def count_matches(text: str, keywords: list[str]) -> int:
    """How many times the keywords occur in the text (each occurrence counts)."""
    return len(_matches(_fold(text), keywords)) if text else 0


def matched_keywords(text: str, keywords: list[str]) -> list[str]:
    return list(dict.fromkeys(k for _, _, k in _matches(_fold(text), keywords))) if text else []


def _negated(folded: str, start: int, keyword: str) -> bool:
    if keyword.isascii():
        return bool(set(_EN_WORD.findall(folded[max(0, start - 40):start])[-2:]) & _EN_NEGATORS)
    window = folded[max(0, start - _ZH_NEGATION_WINDOW):start]
    return any(n in window for n in _ZH_NEGATORS)


def _polarity_hits(text: str, keywords: list[str]) -> tuple[int, int]:
    """(as written, negated) occurrence counts of the keywords."""
    folded = _fold(text)
    plain = flipped = 0
    for start, _end, keyword in _matches(folded, keywords):
        if _negated(folded, start, keyword):
            flipped += 1
        else:
            plain += 1
    return plain, flipped


def category_scores(text: str | None, config: FeedbackConfig) -> dict[FeedbackCategory, int]:
    return {c: count_matches(text or "", config.keywords.get(c, [])) for c in FeedbackCategory}


def classify(text: str | None, config: FeedbackConfig) -> tuple[list[FeedbackCategory], dict[FeedbackCategory, int]]:
    """Every category with a keyword hit, highest score first (ties in declaration order); else `other`."""
    scores = category_scores(text, config)
    order = list(FeedbackCategory)
    hits = sorted((c for c, s in scores.items() if s > 0), key=lambda c: (-scores[c], order.index(c)))
    return (hits or [FeedbackCategory.OTHER]), scores


def _rating_signal(rating: int | None) -> int:
    if rating is None:
        return 0
    return -2 if rating <= 2 else 0 if rating == 3 else 2


def _nps_signal(nps: int | None) -> int:
    if nps is None:
        return 0
    if nps <= 4:
        return -2
    if nps <= 6:
        return -1  # a detractor, but a mild one
    return 0 if nps <= 8 else 2


_KIND_SIGNAL = {FeedbackKind.COMPLAINT: -1, FeedbackKind.PRAISE: 1}


def sentiment_of(text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None,
                 config: FeedbackConfig) -> Sentiment:
    """Positive minus negative words (a negated word counts for the other side), plus the scores given."""
    score = _KIND_SIGNAL.get(kind, 0) + _rating_signal(rating) + _nps_signal(nps)
    if text:
        positive, positive_negated = _polarity_hits(text, config.positive_words)
        negative, negative_negated = _polarity_hits(text, config.negative_words)
        score += (positive + negative_negated) - (negative + positive_negated)
    if score > 0:
        return Sentiment.POSITIVE
    return Sentiment.NEGATIVE if score < 0 else Sentiment.NEUTRAL


def urgency_of(text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None,
               config: FeedbackConfig) -> tuple[Urgency, list[str]]:
    """Urgent on any safety word (negation ignored on purpose: over-escalating is the safe mistake),
    or for a complaint with a very low rating or NPS."""
    reasons = []
    if count_matches(text or "", config.urgent_words):
        reasons.append(URGENT_REASON_KEYWORD)
    if kind == FeedbackKind.COMPLAINT:
        if rating is not None and rating <= config.urgent_rating_max:
            reasons.append(URGENT_REASON_RATING)
        if nps is not None and nps <= config.urgent_nps_max:
            reasons.append(URGENT_REASON_NPS)
    return (Urgency.URGENT if reasons else Urgency.NORMAL), reasons


def route(primary: FeedbackCategory, urgency: Urgency, received_at: datetime,
          config: FeedbackConfig) -> tuple[str, datetime]:
    hours = config.urgent_due_hours if urgency == Urgency.URGENT else config.normal_due_hours
    return config.routing[primary], received_at + timedelta(hours=hours)


def assess(*, text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None, received_at: datetime,
           config: FeedbackConfig) -> Assessment:
    categories, scores = classify(text, config)
    urgency, reasons = urgency_of(text, kind, rating, nps, config)
    department, due_at = route(categories[0], urgency, received_at, config)
    return Assessment(
        categories=categories, primary_category=categories[0], scores=scores,
        sentiment=sentiment_of(text, kind, rating, nps, config), urgency=urgency, urgency_reasons=reasons,
        department=department, due_at=due_at,
    )
