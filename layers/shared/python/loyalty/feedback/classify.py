"""Classify, weigh and route a piece of feedback with the chain's dictionaries. Pure functions, apart
from the word segmentation they call (segment.py).

A text is cut into words (by the WordSegmenter given: jieba in production, see segment.py); Chinese keywords match one word or a few consecutive ones, English keywords
whole words. Each match is a hit on a keyword (a synonym counts as the keyword it stands for), negated
when a negation comes just before it (不慢, 没有破损, not rude). A category scores the weights of its
hits; a negated hit counts half (the topic is still what the text is about), and hits after a turn
(但是, 可惜, 就是, but) count double, since that is where the complaint is. Keyword matching stays
explainable: staff can see why an item went where it did, and the chain tunes weights instead of
retraining a model.

Urgency has three levels: urgent (a health, safety, injury or legal-threat word not negated), high (a
complaint with a low rating or NPS, a repeated complaint, a top-tier member) and normal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loyalty.feedback.config import FeedbackConfig
from loyalty.feedback.domain import FeedbackCategory, FeedbackKind, Sentiment, Urgency
from loyalty.feedback.ports import WordSegmenter

_ZH_NEGATORS = frozenset({"不", "没", "没有", "未", "别", "无", "并不", "并没有", "并未", "从不", "从没", "毫无", "不是",
                          "不太", "不怎么", "不算", "不够", "不会", "绝不", "决不", "不用", "没什么", "木有"})
# Words that may stand between a negation and what it negates: 不太新鲜, 一点也不慢, 不是很热情.
_ZH_BRIDGES = frozenset({"很", "太", "也", "都", "是", "算", "够", "那么", "这么", "怎么", "特别", "非常", "十分", "算是",
                         "一点", "有", "有点", "会", "再", "还", "感觉", "觉得", "是很", "怎样"})
_ZH_TURNS = frozenset({"但", "但是", "可是", "可惜", "就是", "却", "不过", "然而", "只是", "就是说"})
_EN_NEGATORS = frozenset({"not", "no", "never", "hardly", "without", "isn't", "wasn't", "aren't", "weren't", "don't",
                          "doesn't", "didn't", "can't", "couldn't", "won't", "nothing", "nor"})
_EN_TURNS = frozenset({"but", "however", "although", "though", "unfortunately"})
_CLAUSE_END = re.compile(r"^[，。！？；,.!?;:：、…~\-—()（）\[\]【】\"'“”]+$")
_EN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MAX_SPAN = 4  # a Chinese keyword may span up to this many words

URGENT_REASON_KEYWORD = "safety_keyword"
HIGH_REASON_RATING = "low_rating_complaint"
HIGH_REASON_NPS = "low_nps_complaint"
HIGH_REASON_REPEAT = "repeated_complaint"
HIGH_REASON_TIER = "top_tier_member"
NEGATED_WEIGHT = 0.5
TURN_WEIGHT = 2.0


@dataclass(frozen=True)
class Hit:
    keyword: str
    negated: bool
    after_turn: bool


@dataclass(frozen=True)
class Assessment:
    categories: list[FeedbackCategory]
    primary_category: FeedbackCategory
    scores: dict[FeedbackCategory, float]
    sentiment: Sentiment
    urgency: Urgency
    urgency_reasons: list[str] = field(default_factory=list)
    department: str = ""
    due_at: datetime | None = None
    keywords: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MemberContext:
    """What the processor knows about the member giving feedback."""

    tier: str | None = None
    recent_complaints: int = 0  # other complaints of the member within the configured window


class Lexicon:
    """A configuration's keywords, compiled once: where each keyword belongs and how much it weighs."""

    def __init__(self, config: FeedbackConfig, words: WordSegmenter):
        self._words = words
        lists: dict[str, list[str]] = {c.value: config.keywords.get(c, []) for c in FeedbackCategory}
        lists |= {"positive": config.positive_words, "negative": config.negative_words, "urgent": config.urgent_words}
        self.lists: dict[str, frozenset[str]] = {name: frozenset(k.casefold() for k in words)
                                                 for name, words in lists.items()}
        self.weights = {k.casefold(): w for k, w in config.keyword_weights.items()}
        synonyms = {k.casefold(): v.casefold() for k, v in config.synonyms.items()}
        known = frozenset().union(*self.lists.values())
        self.zh = {k: k for k in known if not k.isascii()} | {s: t for s, t in synonyms.items() if not s.isascii()}
        english = [(k, k) for k in known if k.isascii()] + [(s, t) for s, t in synonyms.items() if s.isascii()]
        self.en_exact: dict[tuple[str, ...], str] = {}
        self.en_prefix: list[tuple[tuple[str, ...], str, str]] = []  # (leading words, last word's stem, keyword)
        for written, keyword in english:
            words = tuple(written.split(" "))
            if written.endswith("*"):
                self.en_prefix.append((words[:-1], words[-1].rstrip("*"), keyword))
            else:
                self.en_exact[words] = keyword
        self.en_longest = max([len(w) for w in self.en_exact] + [len(p) + 1 for p, _, _ in self.en_prefix] + [1])

    def weight(self, keyword: str) -> int:
        return self.weights.get(keyword, 1)

    def hits(self, text: str) -> list[Hit]:
        return self._chinese_hits(text) + self._english_hits(text)

    def _chinese_hits(self, text: str) -> list[Hit]:
        if text.isascii():
            return []
        self._words.add_words(self.zh)
        words = self._words.cut(text)
        hits, turned, i = [], False, 0
        while i < len(words):
            word = words[i]
            if word in _ZH_TURNS:
                turned = True
            found = None
            for span in range(min(_MAX_SPAN, len(words) - i), 0, -1):
                candidate = "".join(words[i:i + span])
                if not candidate.isascii() and candidate in self.zh:
                    found = (self.zh[candidate], span, self._negated(words, i))
                    break
            if found is None and len(word) > 1 and word[0] in "不没未" and word[1:] in self.zh:
                found = (self.zh[word[1:]], 1, True)  # 不慢, 没坏 cut as one word
            if found:
                hits.append(Hit(found[0], found[2], turned))
                i += found[1]
            else:
                i += 1
        return hits

    @staticmethod
    def _negated(words: list[str], i: int) -> bool:
        for j in range(i - 1, max(-1, i - 4), -1):
            if words[j] in _ZH_NEGATORS:
                return True
            if words[j] not in _ZH_BRIDGES:
                return False
        return False

    def _english_hits(self, text: str) -> list[Hit]:
        folded = text.casefold().replace("\u2019", "'")
        if not re.search(r"[a-z0-9]", folded):
            return []
        hits, turned, i = [], False, 0
        # Words with their clause: a negation does not reach over a comma or full stop.
        tokens = [(m.group(), m.start()) for m in _EN_WORD.finditer(folded)]
        words = [t for t, _ in tokens]
        while i < len(words):
            if words[i] in _EN_TURNS:
                turned = True
            found = None
            for span in range(min(self.en_longest, len(words) - i), 0, -1):
                phrase = tuple(words[i:i + span])
                keyword = self.en_exact.get(phrase)
                if keyword is None:
                    keyword = next((k for lead, stem, k in self.en_prefix
                                    if len(lead) + 1 == span and phrase[:-1] == lead and phrase[-1].startswith(stem)),
                                   None)
                if keyword is not None:
                    found = (keyword, span)
                    break
            if found:
                start = tokens[i][1]
                clause = re.split(r"[,.;!?]", folded[max(0, start - 40):start])[-1]
                before = _EN_WORD.findall(clause)[-3:]
                negated = any(w in _EN_NEGATORS or w.endswith("n't") for w in before)
                hits.append(Hit(found[0], negated, turned))
                i += found[1]
            else:
                i += 1
        return hits


_compiled: dict[tuple[int, int], tuple[FeedbackConfig, WordSegmenter, Lexicon]] = {}


def lexicon(config: FeedbackConfig, words: WordSegmenter) -> Lexicon:
    """Compiled once per configuration object (the processor loads one per batch)."""
    key = (id(config), id(words))
    cached = _compiled.get(key)
    if cached is None or cached[0] is not config or cached[1] is not words:
        if len(_compiled) >= 8:
            _compiled.clear()
        cached = _compiled[key] = (config, words, Lexicon(config, words))
    return cached[2]


def category_scores(hits: list[Hit], lex: Lexicon) -> dict[FeedbackCategory, float]:
    scores = {c: 0.0 for c in FeedbackCategory}
    for hit in hits:
        weight = lex.weight(hit.keyword) * (NEGATED_WEIGHT if hit.negated else 1) * (TURN_WEIGHT if hit.after_turn else 1)
        for category in FeedbackCategory:
            if hit.keyword in lex.lists[category.value]:
                scores[category] += weight
    return scores


def classify(text: str | None, config: FeedbackConfig,
             words: WordSegmenter) -> tuple[list[FeedbackCategory], dict[FeedbackCategory, float]]:
    """Every category with a hit, highest score first (ties in declaration order); else `other`."""
    lex = lexicon(config, words)
    scores = category_scores(lex.hits(text) if text else [], lex)
    order = list(FeedbackCategory)
    ranked = sorted((c for c, s in scores.items() if s > 0), key=lambda c: (-scores[c], order.index(c)))
    return (ranked or [FeedbackCategory.OTHER]), scores


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


def _sentiment(hits: list[Hit], lex: Lexicon, kind: FeedbackKind, rating: int | None, nps: int | None) -> Sentiment:
    """Positive minus negative words (a negated word counts for the other side), plus the scores given."""
    score = _KIND_SIGNAL.get(kind, 0) + _rating_signal(rating) + _nps_signal(nps)
    for hit in hits:
        if hit.keyword in lex.lists["positive"]:
            score += -1 if hit.negated else 1
        if hit.keyword in lex.lists["negative"]:
            score += 1 if hit.negated else -1
    if score > 0:
        return Sentiment.POSITIVE
    return Sentiment.NEGATIVE if score < 0 else Sentiment.NEUTRAL


def sentiment_of(text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None,
                 config: FeedbackConfig, words: WordSegmenter) -> Sentiment:
    lex = lexicon(config, words)
    return _sentiment(lex.hits(text) if text else [], lex, kind, rating, nps)


def _urgency(hits: list[Hit], lex: Lexicon, kind: FeedbackKind, rating: int | None, nps: int | None,
             config: FeedbackConfig, member: MemberContext) -> tuple[Urgency, list[str]]:
    if any(hit.keyword in lex.lists["urgent"] and not hit.negated for hit in hits):
        return Urgency.URGENT, [URGENT_REASON_KEYWORD]
    reasons = []
    if kind == FeedbackKind.COMPLAINT:
        if rating is not None and rating <= config.high_rating_max:
            reasons.append(HIGH_REASON_RATING)
        if nps is not None and nps <= config.high_nps_max:
            reasons.append(HIGH_REASON_NPS)
        if config.repeat_window_days and member.recent_complaints > 0:
            reasons.append(HIGH_REASON_REPEAT)
        if member.tier is not None and member.tier in config.high_tiers:
            reasons.append(HIGH_REASON_TIER)
    return (Urgency.HIGH if reasons else Urgency.NORMAL), reasons


def urgency_of(text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None, config: FeedbackConfig,
               words: WordSegmenter, member: MemberContext = MemberContext()) -> tuple[Urgency, list[str]]:
    """Urgent on a safety word as written (不安全 too: over-escalating is the safe mistake; 没有过敏 is not);
    high for a complaint rated low, repeated, or from a top-tier member; else normal."""
    lex = lexicon(config, words)
    return _urgency(lex.hits(text) if text else [], lex, kind, rating, nps, config, member)


def due_hours(urgency: Urgency, config: FeedbackConfig) -> int:
    return {Urgency.URGENT: config.urgent_due_hours, Urgency.HIGH: config.high_due_hours}.get(
        urgency, config.normal_due_hours)


def route(primary: FeedbackCategory, urgency: Urgency, received_at: datetime,
          config: FeedbackConfig) -> tuple[str, datetime]:
    return config.routing[primary], received_at + timedelta(hours=due_hours(urgency, config))


def assess(*, text: str | None, kind: FeedbackKind, rating: int | None, nps: int | None, received_at: datetime,
           config: FeedbackConfig, words: WordSegmenter, member: MemberContext = MemberContext()) -> Assessment:
    lex = lexicon(config, words)
    hits = lex.hits(text) if text else []
    scores = category_scores(hits, lex)
    order = list(FeedbackCategory)
    ranked = sorted((c for c, s in scores.items() if s > 0), key=lambda c: (-scores[c], order.index(c)))
    categories = ranked or [FeedbackCategory.OTHER]
    urgency, reasons = _urgency(hits, lex, kind, rating, nps, config, member)
    department, due_at = route(categories[0], urgency, received_at, config)
    return Assessment(
        categories=categories, primary_category=categories[0], scores=scores,
        sentiment=_sentiment(hits, lex, kind, rating, nps), urgency=urgency, urgency_reasons=reasons,
        department=department, due_at=due_at, keywords=list(dict.fromkeys(h.keyword for h in hits)),
    )
