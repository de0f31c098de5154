"""Tag rules as configuration: a small declarative condition over a member's figures, validated when it
is made, evaluated without code (no eval). A condition is `{"all": [...]}`, `{"any": [...]}`,
`{"not": {...}}` or a comparison `{"field": "spend_365d", "op": ">=", "value": "5000"}`."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The figures a rule may compare (InsightFigures), and what kind of value each holds.
NUMBER_FIELDS = frozenset({
    "spend_30d", "spend_90d", "spend_365d", "purchases_30d", "purchases_90d", "purchases_prev_90d",
    "purchases_365d", "orders_total", "average_ticket", "purchase_interval_days", "discount_share",
    "new_product_share", "days_since_last_purchase", "days_since_enrollment", "days_since_last_interaction",
})
TEXT_FIELDS = frozenset({"stage", "tier", "home_store", "enrollment_channel", "top_category", "frequency"})
FLAG_FIELDS = frozenset({"marketing_consent"})
OPERATORS = frozenset({"==", "!=", ">", ">=", "<", "<=", "in"})


class RuleError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def validate_condition(condition: Any, path: str = "when") -> None:
    """Refuses anything but the condition language, naming where (`when.all[1].field`)."""
    if not isinstance(condition, Mapping) or len(condition) == 0:
        raise RuleError(path, "a condition is an object")
    if set(condition) in ({"all"}, {"any"}):
        key = next(iter(condition))
        parts = condition[key]
        if not isinstance(parts, list) or not parts:
            raise RuleError(f"{path}.{key}", "a non-empty list of conditions")
        for index, part in enumerate(parts):
            validate_condition(part, f"{path}.{key}[{index}]")
        return
    if set(condition) == {"not"}:
        validate_condition(condition["not"], f"{path}.not")
        return
    if set(condition) != {"field", "op", "value"}:
        raise RuleError(path, "all, any, not, or field/op/value")
    field, op, value = condition["field"], condition["op"], condition["value"]
    if op not in OPERATORS:
        raise RuleError(f"{path}.op", f"one of {', '.join(sorted(OPERATORS))}")
    if field in NUMBER_FIELDS:
        values = value if op == "in" else [value]
        if op == "in" and not isinstance(value, list):
            raise RuleError(f"{path}.value", "a list for `in`")
        for item in values:
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                raise RuleError(f"{path}.value", f"{field} compares with a number (as a decimal string or integer)")
            try:
                Decimal(str(item))
            except InvalidOperation:
                raise RuleError(f"{path}.value", f"{field} compares with a number") from None
    elif field in TEXT_FIELDS:
        if op not in ("==", "!=", "in"):
            raise RuleError(f"{path}.op", f"{field} is text: ==, != or in")
        if not (isinstance(value, str) or (op == "in" and isinstance(value, list)
                                           and all(isinstance(v, str) for v in value))):
            raise RuleError(f"{path}.value", f"{field} compares with text")
    elif field in FLAG_FIELDS:
        if op not in ("==", "!=") or not isinstance(value, bool):
            raise RuleError(f"{path}.value", f"{field} is true or false, compared with == or !=")
    else:
        raise RuleError(f"{path}.field", f"unknown field {field!r}")


def matches(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether `facts` meet a validated condition; a figure that is unknown (None) meets no comparison."""
    if "all" in condition:
        return all(matches(part, facts) for part in condition["all"])
    if "any" in condition:
        return any(matches(part, facts) for part in condition["any"])
    if "not" in condition:
        return not matches(condition["not"], facts)
    field, op, value = condition["field"], condition["op"], condition["value"]
    actual = facts.get(field)
    if actual is None:
        return False
    if field in NUMBER_FIELDS:
        actual = Decimal(str(actual))
        value = [Decimal(str(v)) for v in value] if op == "in" else Decimal(str(value))
    if op == "in":
        return actual in value
    return {"==": actual == value, "!=": actual != value, ">": actual > value, ">=": actual >= value,
            "<": actual < value, "<=": actual <= value}[op]


class TagRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    when: dict[str, Any]

    @field_validator("when")
    @classmethod
    def _valid(cls, when: dict[str, Any]) -> dict[str, Any]:
        validate_condition(when)
        return when


def _cmp(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


# The chains' own tags (数据孤岛/标签 articles): value, taste and frequency bands.
DEFAULT_TAG_RULES: tuple[TagRule, ...] = (
    TagRule(tag="high_spender", name_zh="高消费人群", name_en="High spender",
            when=_cmp("spend_365d", ">=", "5000")),
    TagRule(tag="new_product_lover", name_zh="新品爱好者", name_en="New-product lover",
            when={"all": [_cmp("new_product_share", ">=", "0.3"), _cmp("purchases_365d", ">=", 3)]}),
    TagRule(tag="discount_sensitive", name_zh="折扣敏感者", name_en="Discount-sensitive",
            when={"all": [_cmp("discount_share", ">=", "0.5"), _cmp("purchases_365d", ">=", 3)]}),
    TagRule(tag="frequency_high", name_zh="高频", name_en="Weekly or more", when=_cmp("frequency", "==", "high")),
    TagRule(tag="frequency_mid", name_zh="中频", name_en="Monthly", when=_cmp("frequency", "==", "mid")),
    TagRule(tag="frequency_low", name_zh="低频", name_en="Quarterly", when=_cmp("frequency", "==", "low")),
    TagRule(tag="big_ticket", name_zh="大单客户", name_en="Big baskets",
            when={"all": [_cmp("average_ticket", ">=", "500"), _cmp("purchases_365d", ">=", 2)]}),
)


class TagRuleSetInput(BaseModel):
    """The tag rules as the back office sends them: every rule, with the version it started from."""

    model_config = ConfigDict(extra="forbid")

    rules: list[TagRule] = Field(min_length=1, max_length=50)
    version: int = Field(ge=0, description="The version read; 409 TAG_RULES_VERSION_CONFLICT when it moved on")

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[TagRule]) -> list[TagRule]:
        tags = [rule.tag for rule in rules]
        if len(set(tags)) != len(tags):
            raise ValueError("each tag has one rule")
        return rules


class TagRuleSet(TagRuleSetInput):
    """The tag rules in force (version 0: the built-in defaults, until the back office saves its own)."""


def default_rule_set() -> TagRuleSet:
    return TagRuleSet(rules=list(DEFAULT_TAG_RULES), version=0)


def rule_tags(rules: tuple[TagRule, ...] | list[TagRule], facts: Mapping[str, Any]) -> list[str]:
    return sorted(rule.tag for rule in rules if matches(rule.when, facts))
