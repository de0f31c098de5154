"""Classification, sentiment, urgency and routing with the built-in dictionaries, on realistic texts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyalty.feedback.domain import FeedbackCategory as C
from loyalty.feedback.domain import FeedbackKind as K
from loyalty.feedback.domain import Sentiment, Urgency
from loyalty.feedback import classify as classifier
from loyalty.feedback.classify import MemberContext
from loyalty.feedback.segment import JiebaSegmenter
from loyalty.feedback.config import DEFAULT_FEEDBACK_CONFIG as CONFIG
from loyalty.feedback.config import FeedbackConfig

RECEIVED = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)
WORDS = JiebaSegmenter()


def classify(text, config):
    return classifier.classify(text, config, WORDS)


def sentiment_of(text, kind, rating, nps, config):
    return classifier.sentiment_of(text, kind, rating, nps, config, WORDS)


def urgency_of(text, kind, rating, nps, config, member=MemberContext()):
    return classifier.urgency_of(text, kind, rating, nps, config, WORDS, member)


def assess(**kwargs):
    return classifier.assess(**kwargs, words=WORDS)


def lexicon(config):
    return classifier.lexicon(config, WORDS)


@pytest.mark.parametrize("text, primary", [
    # product quality
    ("买的羊毛衫洗了一次就起球掉色，做工太差了", C.PRODUCT_QUALITY),
    ("面包还在保质期内就发霉了，品质堪忧", C.PRODUCT_QUALITY),
    ("The jeans I bought have a defect in the stitching and the fabric feels cheap quality.", C.PRODUCT_QUALITY),
    # service attitude
    ("收银员态度冷漠，问了两遍都爱答不理", C.SERVICE_ATTITUDE),
    ("导购小姐姐非常耐心，帮我挑了半个小时", C.SERVICE_ATTITUDE),
    ("The cashier was rude and the queue barely moved.", C.SERVICE_ATTITUDE),
    # pricing and promotions
    ("满减活动结账时没有生效，标价和实际收费不一致", C.PRICING_PROMOTIONS),
    ("同样的洗发水比隔壁超市贵了十块，性价比太低", C.PRICING_PROMOTIONS),
    ("The discount coupon was not applied and I was overcharged.", C.PRICING_PROMOTIONS),
    # delivery and logistics
    ("快递三天了还没发货，物流信息一直不更新", C.DELIVERY_LOGISTICS),
    ("外卖骑手送错地址，包裹还少发了一件", C.DELIVERY_LOGISTICS),
    ("My parcel was marked as delivered but the courier left it at the wrong building.", C.DELIVERY_LOGISTICS),
    # store environment
    ("洗手间很脏，地面湿漉漉的，货架通道也很拥挤", C.STORE_ENVIRONMENT),
    ("店里空调温度太低，停车也很不方便", C.STORE_ENVIRONMENT),
    ("The toilets were dirty and the aisles were blocked by boxes.", C.STORE_ENVIRONMENT),
    # membership and points
    ("上个月的积分一直没到账，会员等级也没有升级", C.MEMBERSHIP_POINTS),
    ("生日礼没有收到，会员卡里的储值也查不到", C.MEMBERSHIP_POINTS),
    ("I could not redeem my loyalty points at the till.", C.MEMBERSHIP_POINTS),
    # nothing the dictionaries know
    ("希望能开一家分店在浦东", C.OTHER),
    ("Please open earlier on Sundays.", C.OTHER),
])
def test_every_category_is_recognised_in_chinese_and_english(text, primary):
    categories, _ = classify(text, CONFIG)

    assert categories[0] == primary


def test_several_categories_are_kept_and_the_highest_score_is_primary():
    categories, scores = classify("快递包裹送到时已经破损，里面的杯子质量也很一般，客服态度还不好", CONFIG)

    assert categories[0] == C.DELIVERY_LOGISTICS  # 快递 3, 包裹 3, 送到 2
    assert set(categories) == {C.DELIVERY_LOGISTICS, C.PRODUCT_QUALITY, C.SERVICE_ATTITUDE}
    assert scores[C.DELIVERY_LOGISTICS] == 8 and scores[C.MEMBERSHIP_POINTS] == 0


def test_equal_scores_fall_back_to_the_declared_category_order():
    categories, scores = classify("价格一般，配送一般", CONFIG)

    assert scores[C.PRICING_PROMOTIONS] == scores[C.DELIVERY_LOGISTICS] > 0
    assert categories == [C.PRICING_PROMOTIONS, C.DELIVERY_LOGISTICS]


def test_what_follows_a_turn_weighs_double():
    categories, _ = classify("虽然价格便宜，但是衣服质量太差了", CONFIG)
    english, _ = classify("Great prices, but the delivery took a week.", CONFIG)

    assert categories[0] == C.PRODUCT_QUALITY
    assert english[0] == C.DELIVERY_LOGISTICS


def test_a_food_poisoning_without_any_listed_keyword_phrase_is_product_quality_and_urgent():
    item = assess(text="吃了店里的熟食后食物中毒,进了医院", kind=K.COMPLAINT, rating=None, nps=None,
                  received_at=RECEIVED, config=CONFIG)

    assert (item.primary_category, item.urgency, item.department) == (C.PRODUCT_QUALITY, Urgency.URGENT,
                                                                      "quality_management")


def _keywords(text):
    return [(hit.keyword, hit.negated) for hit in lexicon(CONFIG).hits(text)]


def test_chinese_keywords_match_words_not_any_substring():
    assert ("价格", False) not in _keywords("评价格外好")  # 评价 / 格外 / 好
    assert _keywords("优惠券不能用") == [("优惠券", False)]  # one word, not 优惠 inside it
    assert ("态度差", False) in _keywords("收银员态度差")
    assert ("quality", False) in _keywords("快递delivery很慢, quality一般")  # English inside Chinese text


def test_english_keywords_match_whole_words_and_phrases():
    assert _keywords("Great service") == [("great", False), ("service", False)]
    assert ("service", False) not in _keywords("serviceable")  # a word, not a prefix...
    assert ("price*", False) in _keywords("prices went up")  # ...unless the keyword says so
    assert ("air conditioning", False) in _keywords("the air  conditioning is broken")


@pytest.mark.parametrize("text, keyword", [
    ("送货一点也不慢", "慢"),
    ("包装没有破损", "破损"),
    ("水果不太新鲜", "新鲜"),
    ("服务不是很热情", "热情"),
    ("The cashier was not rude at all.", "rude*"),
])
def test_a_negation_just_before_a_keyword_negates_it(text, keyword):
    assert (keyword, True) in _keywords(text)


def test_a_negation_reaches_only_the_words_right_after_it():
    assert ("慢", False) in _keywords("不知道为什么配送慢")


def test_a_synonym_counts_as_its_keyword():
    assert ("腹泻", False) in _keywords("吃完拉肚子")
    assert urgency_of("吃完闹肚子了", K.COMPLAINT, None, None, CONFIG)[0] == Urgency.URGENT


@pytest.mark.parametrize("text, kind, rating, nps, expected", [
    ("店员很热情，服务周到，非常满意！", K.PRAISE, 5, None, Sentiment.POSITIVE),
    ("收银员态度差，太让人失望了", K.COMPLAINT, None, None, Sentiment.NEGATIVE),
    ("不满意，服务不热情", K.SUGGESTION, None, None, Sentiment.NEGATIVE),  # 满意 and 热情 negated
    ("水果很新鲜", K.SURVEY, None, None, Sentiment.POSITIVE),
    ("水果不新鲜", K.SURVEY, None, None, Sentiment.NEGATIVE),
    ("包装没有破损，很好", K.SURVEY, None, None, Sentiment.POSITIVE),  # a negated complaint word
    ("The staff was not friendly at all.", K.SURVEY, None, None, Sentiment.NEGATIVE),
    ("Not bad, the aisles were clean.", K.SURVEY, None, None, Sentiment.POSITIVE),
    ("The courier wasn’t helpful.", K.SURVEY, None, None, Sentiment.NEGATIVE),  # curly apostrophe
    (None, K.SURVEY, None, 10, Sentiment.POSITIVE),
    (None, K.SURVEY, None, 7, Sentiment.NEUTRAL),
    (None, K.SURVEY, 3, None, Sentiment.NEUTRAL),
    (None, K.SURVEY, 1, None, Sentiment.NEGATIVE),
    ("还行吧", K.SUGGESTION, None, None, Sentiment.NEUTRAL),
])
def test_sentiment_weighs_words_negations_and_scores(text, kind, rating, nps, expected):
    assert sentiment_of(text, kind, rating, nps, CONFIG) == expected


@pytest.mark.parametrize("text, kind, rating", [
    ("买的花生酥没有标注过敏原，孩子吃了过敏起疹子", K.COMPLAINT, None),
    ("熟食区的鸡腿吃了以后全家食物中毒", K.COMPLAINT, 3),
    ("昨天买的盒饭吃坏肚子了", K.SURVEY, None),
    ("地面有水没有提示，我妈妈滑倒受伤了", K.COMPLAINT, None),
    ("儿童玩具边缘锋利，存在安全隐患", K.SUGGESTION, None),
    ("再不退钱我就去12315投诉", K.COMPLAINT, 1),  # urgent wins over high
    ("我已经咨询了律师", K.COMPLAINT, None),
    ("My son had an allergic reaction to the cookies.", K.COMPLAINT, None),
    ("Found a piece of glass in the salad and ended up in hospital.", K.COMPLAINT, None),
])
def test_health_safety_injury_and_legal_threats_are_urgent(text, kind, rating):
    assert urgency_of(text, kind, rating, None, CONFIG) == (Urgency.URGENT, ["safety_keyword"])


def test_a_negated_safety_word_is_not_urgent():
    assert urgency_of("孩子吃了没有过敏，就是味道一般", K.COMPLAINT, None, None, CONFIG)[0] == Urgency.NORMAL


@pytest.mark.parametrize("text, kind, rating, nps, member, reasons", [
    ("收银太慢", K.COMPLAINT, 2, None, MemberContext(), ["low_rating_complaint"]),
    ("收银太慢", K.COMPLAINT, None, 3, MemberContext(), ["low_nps_complaint"]),
    ("排队太久", K.COMPLAINT, 1, 0, MemberContext(), ["low_rating_complaint", "low_nps_complaint"]),
    ("排队太久", K.COMPLAINT, None, None, MemberContext(recent_complaints=1), ["repeated_complaint"]),
    ("排队太久", K.COMPLAINT, 4, None, MemberContext(tier="platinum"), ["top_tier_member"]),
])
def test_low_scores_repeats_and_top_tier_members_are_high(text, kind, rating, nps, member, reasons):
    assert urgency_of(text, kind, rating, nps, CONFIG, member) == (Urgency.HIGH, reasons)


@pytest.mark.parametrize("text, kind, rating, nps", [
    ("排队有点久", K.COMPLAINT, 3, None),
    ("排队有点久", K.COMPLAINT, None, 4),
    ("很一般", K.SURVEY, 1, None),  # a low rating raises only a complaint
    ("The checkout was a bit slow.", K.COMPLAINT, None, None),
    ("牛奶开盒就是变质的", K.COMPLAINT, None, None),  # spoiled, nobody hurt: quality's normal lane
])
def test_ordinary_feedback_is_normal(text, kind, rating, nps):
    assert urgency_of(text, kind, rating, nps, CONFIG) == (Urgency.NORMAL, [])


@pytest.mark.parametrize("text, department", [
    ("酸奶变味了", "quality_management"),
    ("店员不理人", "customer_service"),
    ("优惠券用不了", "marketing"),
    ("快递太慢", "logistics"),
    ("洗手间太脏", "store_operations"),
    ("积分没到账", "membership"),
    ("希望多开分店", "customer_service"),
])
def test_each_category_is_routed_to_its_department(text, department):
    assert assess(text=text, kind=K.SUGGESTION, rating=None, nps=None, received_at=RECEIVED,
                  config=CONFIG).department == department


def test_due_time_follows_urgency():
    urgent = assess(text="吃了过敏", kind=K.COMPLAINT, rating=None, nps=None, received_at=RECEIVED, config=CONFIG)
    high = assess(text="排队太久", kind=K.COMPLAINT, rating=1, nps=None, received_at=RECEIVED, config=CONFIG)
    normal = assess(text="希望多开分店", kind=K.SUGGESTION, rating=None, nps=None, received_at=RECEIVED,
                    config=CONFIG)

    assert urgent.due_at == RECEIVED + timedelta(hours=4)
    assert high.due_at == RECEIVED + timedelta(hours=24)
    assert normal.due_at == RECEIVED + timedelta(hours=48)


def test_a_configuration_stored_with_the_first_field_names_still_loads():
    data = CONFIG.model_dump(mode="json")
    data["urgent_rating_max"] = data.pop("high_rating_max")
    data["urgent_nps_max"] = data.pop("high_nps_max")
    del data["high_due_hours"], data["keyword_weights"], data["synonyms"]

    config = FeedbackConfig.model_validate(data)

    assert (config.high_rating_max, config.high_nps_max, config.high_due_hours) == (2, 3, 24)


def test_a_chain_can_retune_keywords_routing_and_deadlines():
    data = CONFIG.model_dump(mode="json")
    data["keywords"]["delivery_logistics"].append("提货点")
    data["keyword_weights"]["提货点"] = 5
    data["routing"]["delivery_logistics"] = "o2o_operations"
    data["urgent_words"].append("投诉到消协")
    data["normal_due_hours"] = 24
    config = FeedbackConfig.model_validate(data)

    pickup = assess(text="提货点关门了", kind=K.COMPLAINT, rating=3, nps=None, received_at=RECEIVED, config=config)
    threat = assess(text="再不处理我就投诉到消协", kind=K.COMPLAINT, rating=3, nps=None, received_at=RECEIVED,
                    config=config)

    assert (pickup.primary_category, pickup.department) == (C.DELIVERY_LOGISTICS, "o2o_operations")
    assert pickup.due_at == RECEIVED + timedelta(hours=24)
    assert threat.urgency == Urgency.URGENT
