"""What the chain can edit about feedback handling: weighted keyword dictionaries, synonyms, routing,
urgency levels and their deadlines, the reopen window.

Text is cut into words first (Chinese by jieba, see `segment.py`), and a keyword matches whole words:
a Chinese keyword one or more consecutive words ("态度差", or "态度" + "差"), so 价格 no longer matches
inside 评价格外好. ASCII keywords (English) match whole words, case-insensitively; a trailing `*`
matches any word ending ("refund*" matches refund, refunds, refunded). Every keyword weighs 1 unless
`keyword_weights` says otherwise; a synonym counts as the keyword it stands for.
"""
from __future__ import annotations

from functools import cache

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator, model_validator,
)

from loyalty.feedback.domain import FeedbackCategory as C
from loyalty.kernel.models import StrictModel

_ASCII_KEYWORD = re.compile(r"^[a-z0-9][a-z0-9 '\-]*\*?$")
MAX_KEYWORDS_PER_LIST = 300


def _check_keyword(value: str) -> str:
    value = " ".join(value.split())
    if value.isascii():
        value = value.lower()
        if not _ASCII_KEYWORD.match(value):
            raise ValueError("an English keyword is letters, digits, spaces, hyphens or apostrophes, "
                             "optionally ending in *")
    elif "*" in value:
        raise ValueError("Chinese keywords match whole words; they take no *")
    return value


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Keyword = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_check_keyword)]
KeywordList = Annotated[list[Keyword], Field(max_length=MAX_KEYWORDS_PER_LIST), AfterValidator(_dedupe)]
Department = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Weight = Annotated[int, Field(strict=True, ge=1, le=10)]
TierName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
MAX_WEIGHTS = 1500
MAX_SYNONYMS = 500
# Names the first configurations used: a configuration stored then still loads.
_RENAMED = {"urgent_rating_max": "high_rating_max", "urgent_nps_max": "high_nps_max"}


class FeedbackConfig(StrictModel):
    keywords: dict[C, KeywordList] = Field(description="Keywords per category; `other` is the fallback")
    keyword_weights: dict[Keyword, Weight] = Field(
        default_factory=dict, max_length=MAX_WEIGHTS,
        description="How much a keyword counts towards its category (1-10); unlisted keywords weigh 1")
    synonyms: dict[Keyword, Keyword] = Field(
        default_factory=dict, max_length=MAX_SYNONYMS,
        description="Other ways to say a keyword (拉肚子 → 腹泻): each counts as the keyword it maps to")
    positive_words: KeywordList
    negative_words: KeywordList
    urgent_words: KeywordList = Field(description="Health, safety, injury and legal-threat words: any of them, "
                                                  "not negated, makes an item urgent")
    routing: dict[C, Department] = Field(description="Department handling each category")
    urgent_due_hours: StrictInt = Field(ge=1, le=168, description="Urgent: health, safety, injury, legal threat")
    high_due_hours: StrictInt = Field(default=24, ge=1, le=336,
                                      description="High: a low-rated or repeated complaint, a top-tier member")
    normal_due_hours: StrictInt = Field(ge=1, le=720)
    high_rating_max: StrictInt = Field(default=2, ge=1, le=5, description="A complaint rated this or lower is high")
    high_nps_max: StrictInt = Field(default=3, ge=0, le=10, description="A complaint with this NPS or lower is high")
    high_tiers: list[TierName] = Field(default_factory=lambda: ["platinum"], max_length=10,
                                       description="Members of these tiers get the high lane")
    repeat_window_days: StrictInt = Field(
        default=30, ge=0, le=365,
        description="A member's complaint with another one received within this many days is high (0: off)")
    reopen_window_days: StrictInt = Field(default=14, ge=0, le=90,
                                          description="How long after an outcome the member may reopen (0: never)")
    reopen_due_hours: StrictInt = Field(default=24, ge=1, le=336,
                                        description="Due time of a reopened item (an urgent one keeps its shorter one)")
    invitation_sample_pct: StrictInt = Field(default=10, ge=0, le=100,
                                             description="Share of purchases whose member is invited to give feedback")
    invitation_valid_days: StrictInt = Field(default=7, ge=1, le=90, description="How long an invitation stays open")

    @model_validator(mode="before")
    @classmethod
    def _renamed_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(old in data for old in _RENAMED):
            data = dict(data)
            for old, new in _RENAMED.items():
                if old in data:
                    value = data.pop(old)
                    data.setdefault(new, value)
        return data

    @field_validator("routing")
    @classmethod
    def _every_category_routed(cls, routing: dict) -> dict:
        missing = [c.value for c in C if c not in routing]
        if missing:
            raise ValueError(f"routing needs a department for every category; missing: {', '.join(missing)}")
        return routing

    @field_validator("normal_due_hours")
    @classmethod
    def _urgent_first(cls, hours: int, info: ValidationInfo) -> int:
        for shorter in ("urgent_due_hours", "high_due_hours"):
            value = info.data.get(shorter)
            if value is not None and hours < value:
                raise ValueError(f"normal_due_hours cannot be shorter than {shorter}")
        return hours

    @field_validator("high_due_hours")
    @classmethod
    def _urgent_before_high(cls, hours: int, info: ValidationInfo) -> int:
        urgent = info.data.get("urgent_due_hours")
        if urgent is not None and hours < urgent:
            raise ValueError("high_due_hours cannot be shorter than urgent_due_hours")
        return hours


class FeedbackConfigUpdate(FeedbackConfig):
    """PUT /v1/feedback/config: the whole configuration and the version it replaces (0 for the defaults)."""

    version: StrictInt = Field(ge=0, description="Version you read; 409 if someone changed it since")
    # What GET answers can be sent back as it is: these are read-only and ignored.
    source: Literal["stored", "default"] | None = Field(default=None, description="Read-only; ignored")
    updated_at: datetime | None = Field(default=None, description="Read-only; ignored")
    updated_by: str | None = Field(default=None, max_length=128, description="Read-only; ignored")

    READ_ONLY: ClassVar[frozenset[str]] = frozenset({"version", "source", "updated_at", "updated_by"})


class StoredFeedbackConfig(BaseModel):
    model_config = ConfigDict(defer_build=True)

    config: FeedbackConfig
    version: int = 0  # 0: the built-in defaults, never saved
    updated_at: datetime | None = None
    updated_by: str | None = None


@cache
def default_feedback_config() -> FeedbackConfig:
    """The built-in configuration (version 0), built on first use rather than at import."""
    from loyalty.feedback.lexicon import default_config_data

    return FeedbackConfig.model_validate(default_config_data())


@cache
def default_stored_config() -> StoredFeedbackConfig:
    return StoredFeedbackConfig(config=default_feedback_config())


def __getattr__(name: str):  # the defaults stay importable by name, built when first asked for
    if name == "DEFAULT_FEEDBACK_CONFIG":
        return default_feedback_config()
    if name == "DEFAULT_STORED_CONFIG":
        return default_stored_config()
    raise AttributeError(name)

