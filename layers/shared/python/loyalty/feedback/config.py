"""What the chain can edit about feedback handling: keyword dictionaries, routing, deadlines.

Keywords with any non-ASCII character (Chinese) match as substrings, since Chinese is written without
spaces and no tokenizer is used. ASCII keywords (English) match whole words, case-insensitively; a
trailing `*` matches any word ending ("refund*" matches refund, refunds, refunded).
"""
from __future__ import annotations

from functools import cache

import re
from datetime import datetime
from typing import ClassVar, Literal, Annotated

from pydantic import ConfigDict, AfterValidator, BaseModel, Field, StrictInt, ValidationInfo, field_validator

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
        raise ValueError("Chinese keywords match anywhere in the text; they take no *")
    return value


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Keyword = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_check_keyword)]
KeywordList = Annotated[list[Keyword], Field(max_length=MAX_KEYWORDS_PER_LIST), AfterValidator(_dedupe)]
Department = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class FeedbackConfig(StrictModel):
    keywords: dict[C, KeywordList] = Field(description="Keywords per category; `other` is the fallback")
    positive_words: KeywordList
    negative_words: KeywordList
    urgent_words: KeywordList = Field(description="Safety words: any of them makes an item urgent")
    routing: dict[C, Department] = Field(description="Department handling each category")
    urgent_due_hours: StrictInt = Field(ge=1, le=168)
    normal_due_hours: StrictInt = Field(ge=1, le=720)
    urgent_rating_max: StrictInt = Field(default=2, ge=1, le=5, description="A complaint rated this or lower is urgent")
    urgent_nps_max: StrictInt = Field(default=3, ge=0, le=10, description="A complaint with this NPS or lower is urgent")

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
        urgent = info.data.get("urgent_due_hours")
        if urgent is not None and hours < urgent:
            raise ValueError("normal_due_hours cannot be shorter than urgent_due_hours")
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
    return FeedbackConfig(
        keywords={
            C.PRODUCT_QUALITY: [
                "质量", "品质", "坏了", "破损", "过期", "变质", "发霉", "霉变", "异味", "不新鲜", "次品", "假货",
                "瑕疵", "变味", "掉色", "起球", "开线", "漏水", "保质期", "难吃", "口感", "味道", "有虫", "异物", "做工",
                "尺码", "产品", "新品", "食材", "过敏原", "配料", "标签",
                "quality", "defect*", "broken", "expired", "stale", "mould*", "mold*", "rotten", "fake", "faulty",
                "spoiled", "taste*", "product*", "fabric", "size", "ingredient*", "label*",
            ],
            C.SERVICE_ATTITUDE: [
                "态度", "服务", "店员", "收银员", "收银", "导购", "营业员", "服务员", "员工", "不耐烦", "不理人",
                "爱答不理", "冷漠", "热情", "耐心", "礼貌", "排队", "客服", "售后", "退换货",
                "staff", "cashier*", "rude*", "attitude", "service", "impolite", "unfriendly", "friendly",
                "helpful", "employee*", "queue*", "waited", "assistant*", "customer service",
            ],
            C.PRICING_PROMOTIONS: [
                "价格", "价钱", "标价", "太贵", "很贵", "偏贵", "便宜", "优惠", "折扣", "打折", "促销", "满减",
                "优惠券", "多收", "收费", "划算", "性价比", "特价", "降价", "价签",
                "price*", "pricing", "expensive", "cheap*", "discount*", "promotion*", "promo", "coupon*",
                "overcharg*", "deal*", "sale", "offer*",
            ],
            C.DELIVERY_LOGISTICS: [
                "配送", "快递", "物流", "送货", "发货", "到货", "收货", "外卖", "骑手", "包裹", "送达", "送错",
                "漏发", "少发", "签收", "运费", "派送", "送到",
                "deliver*", "shipping", "shipped", "shipment", "courier", "parcel", "package", "tracking",
                "dispatch*", "rider",
            ],
            C.STORE_ENVIRONMENT: [
                "环境", "卫生", "干净", "脏", "杂乱", "空调", "温度", "停车", "灯光", "噪音", "音乐", "货架",
                "通道", "厕所", "洗手间", "试衣间", "地面", "拥挤", "装修", "购物车",
                "clean*", "dirty", "messy", "toilet*", "restroom*", "bathroom*", "parking", "aisle*", "shelf",
                "shelves", "noisy", "crowded", "air conditioning", "fitting room*", "floor", "trolley*",
            ],
            C.MEMBERSHIP_POINTS: [
                "积分", "会员卡", "会员等级", "会员权益", "会员日", "等级", "升级", "降级", "兑换", "权益",
                "生日礼", "储值", "会员价",
                "points", "membership", "loyalty", "tier", "redeem*", "redemption", "reward*", "voucher*",
                "member card", "member price",
            ],
            C.OTHER: [],
        },
        positive_words=[
            "满意", "好评", "喜欢", "赞", "感谢", "谢谢", "热情", "耐心", "推荐", "不错", "很好", "非常好",
            "棒", "贴心", "周到", "方便", "新鲜", "干净", "快速", "及时",
            "great", "good", "excellent", "thank*", "love*", "friendly", "helpful", "recommend*", "amazing",
            "happy", "satisfied", "fast", "clean", "perfect", "nice",
        ],
        negative_words=[
            "不满", "失望", "生气", "糟糕", "恶心", "投诉", "垃圾", "坑人", "欺骗", "不好", "难吃", "不新鲜",
            "差劲", "很差", "太差", "真差", "极差", "态度差", "质量差", "服务差", "太慢", "很慢", "退款", "不耐烦",
            "冷漠", "脏", "破损", "过期", "变质", "多收", "送错", "漏发", "少发", "太贵",
            "bad", "terrible", "awful", "disappoint*", "angry", "rude*", "worst", "poor", "horrible",
            "complain*", "unacceptable", "dirty", "broken", "slow", "refund*", "wrong", "missing", "never again",
        ],
        urgent_words=[
            "过敏", "食物中毒", "中毒", "吃坏肚子", "拉肚子", "腹泻", "呕吐", "受伤", "划伤", "割伤", "烫伤",
            "摔倒", "滑倒", "安全", "变质", "异物", "玻璃渣", "刀片", "漏电", "触电", "着火", "冒烟", "误食",
            "送医", "医院",
            "allerg*", "food poisoning", "poisoned", "injur*", "unsafe", "safety", "hospital*", "vomit*",
            "diarrh*", "choking", "burned", "fire", "smoke", "electric shock", "glass", "blade",
        ],
        routing={
            C.PRODUCT_QUALITY: "quality_assurance",
            C.SERVICE_ATTITUDE: "store_operations",
            C.PRICING_PROMOTIONS: "marketing",
            C.DELIVERY_LOGISTICS: "logistics",
            C.STORE_ENVIRONMENT: "store_operations",
            C.MEMBERSHIP_POINTS: "crm",
            C.OTHER: "customer_service",
        },
        urgent_due_hours=4,
        normal_due_hours=48,
    )


@cache
def default_stored_config() -> StoredFeedbackConfig:
    return StoredFeedbackConfig(config=default_feedback_config())


def __getattr__(name: str):  # the defaults stay importable by name, built when first asked for
    if name == "DEFAULT_FEEDBACK_CONFIG":
        return default_feedback_config()
    if name == "DEFAULT_STORED_CONFIG":
        return default_stored_config()
    raise AttributeError(name)

