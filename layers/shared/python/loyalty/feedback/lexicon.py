"""The built-in dictionaries: weighted keywords per category, synonyms, sentiment and urgent words.

Written as "word:weight" (weight 1 when left out). Topic anchors (积分, 快递, 收银员) weigh 3 or 4, words that
lean towards a category (味道, 排队, 活动) 1. The figures these give on the labelled set are in
docs/feedback-classifier.md; a chain changes them through PUT /v1/feedback/config.
"""
from __future__ import annotations

from loyalty.feedback.domain import FeedbackCategory as C

_KEYWORDS = {
    C.PRODUCT_QUALITY: """
        食物中毒:4 中毒:3 过敏:2 过敏反应:3 吃坏肚子:3 腹泻:2 呕吐:2 肠胃炎:3 洗胃:2 肚子疼:2 肚子绞痛:2
        质量:3 品质:3 做工:3 次品:3 假货:3 瑕疵:3 坏了:2 坏的:2 破损 过期:3 临期:2 保质期:3 生产日期:2 变质:3 发霉:3
        霉变:3 霉味:3 异味:2 怪味:2 臭味:2 臭的:2 腥:1 不新鲜:3 新鲜:2 烂:2 烂了:2 软烂:2 变味:2 哈喇味:3 掉色:3
        起球:3 开线:3 开胶:3 缩水:3 漏水:2 漏:1 裂缝:2 裂痕:2 裂纹:2 断了:2 碎了:1 难吃:3 好吃:2 口感:2 味道:1
        有虫:3 虫子:3 虫:2 异物:3 头发:2 玻璃:2 金属片:2 钉子:2 铁丝:2 烟头:2 老鼠屎:3 苍蝇:1 尺码:3 产品:1 食材:2
        原料:2 配料:2 成分:2 过敏原:3 添加剂:2 农药:3 兑水:3 注水:3 掺:2 结块:2 分层:2 沉淀:2 破皮:2 保温:2
        没电:2 不好用:2 坏:2 锈:2 噪音大:2 生的:2 没熟:2 不熟:2 松软:2 饱满:2 实用:1 描述不符:2 图片:1
        食品:2 食物:2 熟食:2 卤味:2 卤牛肉:2 烤鸭:2 烤肠:2 刺身:2 寿司:2 小龙虾:2 盒饭:2 沙拉:2 凉拌菜:2
        奶粉:2 米粉:2 牛奶:2 酸奶:2 面包:2 蛋糕:2 月饼:2 粽子:2 饼干:2 点心:2 零食:2 坚果:2 饮料:2 果汁:2
        蜂蜜:2 酱油:2 大米:2 水饺:2 汤圆:2 猫粮:2 保健品:2 水果:2 蔬菜:2 草莓:2 蓝莓:2 橙子:2 香蕉:2 榴莲:2
        猕猴桃:2 苹果:1 鸡蛋:1 牛排:2 猪肉:2 三文鱼:2 虾仁:2 蘑菇:2 咖啡豆:2 奶茶:2 奶油:2 衣服:2 衬衫:2 T恤:2
        羊毛衫:2 床单:2 被子:2 鞋底:2 运动鞋:2 拖鞋:2 口红:2 洗发水:2 护手霜:2 洗衣液:2 纸尿裤:2 纸巾:1 牙刷:2
        电池:2 电热水壶:2 充电宝:2 榨汁机:2 咖啡机:2 保温杯:2 玻璃杯:2 手机壳:2 玩具:2 冰箱贴:2 内胆:2 电器:2
        food_poisoning:4 allerg*:2 quality:3 defect*:3 broken:2 expired:3 expiry:2 stale:3 mould*:3 mold*:3 rotten:3 sour:2 fake:3 faulty:3
        spoiled:3 taste*:2 product*:1 fabric:2 stitching:2 size:2 ingredient*:2 stopped_working:3 flour:2 bread:2
        milk:2 yogurt:2 chicken:2 dumplings:2 apples:2 cookies:2 chocolate:2 fruit:2 food:2 headphones:2
        """,
    C.SERVICE_ATTITUDE: """
        态度:3 服务:2 服务态度:4 店员:3 收银员:3 收银:2 导购:3 营业员:3 服务员:3 员工:3 工作人员:3 保安:3 店长:3
        客服:3 售后:2 理货员:3 前台:2 咨询处:3 阿姨:1 大姐:1 小姐姐:1 不耐烦:3 不理人:3 爱答不理:3 冷漠:3 冷冰冰:3
        热情:2 耐心:2 礼貌:2 不礼貌:3 专业:1 不专业:3 排队:1 甩脸色:3 脸色:2 翻白眼:3 阴阳怪气:3 骂:3 辱骂:3
        推搡:3 动手:2 打人:2 敷衍:3 推脱:3 吵架:2 呵斥:3 凶:2 很冲:3 道歉:2 服务意识:4 一问三不知:3 没人理:3
        没人接:2 挂断:2 回电:2 推销:2 态度差:4 态度恶劣:4 恶劣:2 周到:2 主动:1 退换货:2 不尊重:3 尊重:2 说话:2
        讲话:2 聊天:2 玩手机:3 答非所问:2 转人工:2 催:1 不承认:2 怀疑:1 处理:1 推荐:1 谢谢:1 点赞:1 帮:1
        staff:3 cashier*:3 rude*:3 attitude:3 service:2 impolite:3 unfriendly:3 friendly:2 helpful:2 employee*:3
        queue*:1 assistant*:3 customer_service:4 security_guard:3 hung_up:3 ignored:3 patient:2 aggressive:2
        shouted:2 service_desk:3 colleague:1
        """,
    C.PRICING_PROMOTIONS: """
        价格:3 价钱:3 标价:3 价签:3 价格标签:4 单价:3 明码标价:3 太贵:3 很贵:3 贵:2 便宜:2 优惠:2 优惠券:3
        折扣:3 打折:3 八折:3 五折:3 半价:3 第二件半价:4 促销:3 满减:3 特价:3 降价:3 涨价:3 多收:3 收费:2
        多付:3 划算:2 性价比:3 赠品:3 买一送一:3 秒杀:3 团购:2 团购券:3 核销:2 补差价:3 差价:3 找零:3
        价格欺诈:4 虚假宣传:2 宣传:1 海报:1 小票:1 结账:1 块钱:1 包邮:1 补贴:2 收了:1 加价:3 优惠力度:3
        力度:1 折:2 学生折扣:3 低价:2 原价:3 叠加:2 周年庆:2 囤:1 套餐:2 多收钱:3 钱:1
        price*:3 pricing:3 expensive:3 cheap*:1 discount*:3 promotion*:3 promo:3 coupon*:3 overcharg*:3
        charged:3 deal*:2 sale:1 offer*:2 buy_one_get_one:3 receipt:1
        """,
    C.DELIVERY_LOGISTICS: """
        配送:3 快递:3 物流:3 送货:3 发货:3 到货:2 收货:2 外卖:2 骑手:3 包裹:3 送达:3 送到:2 送错:3 漏发:3 少发:3
        少送:3 签收:3 运费:3 派送:3 快递员:3 配送员:3 小哥:2 司机:2 驿站:3 取件:3 自提:2 自提柜:3 送货上门:3
        上门:2 安装:1 冷链:3 物流信息:3 单号:2 延误:3 超时:2 打包:1 送来:2 送达时间:3 送货时间:3 配送时间:3
        美团:2 饿了么:2 京东到家:3 同城:2 急送:2 配送范围:3 订单:1 下单:1 搬:1 下楼:1 上楼:1 到了:1 收到:1
        在路上:2 外箱:2 箱子:1 丢件:3 取货:2
        deliver*:3 shipping:3 shipped:3 shipment:3 courier:3 parcel:3 package:2 tracking:3 dispatch*:3 rider:3
        arrived:2 late:1 thawed:1 upstairs:1 order*:1
        """,
    C.STORE_ENVIRONMENT: """
        环境:3 卫生:3 干净:2 脏:3 杂乱:3 乱:1 空调:3 温度:2 冷:1 闷:2 停车:3 停车场:3 灯光:3 暗:1 噪音:3 音乐:2
        吵:2 货架:2 通道:3 厕所:3 洗手间:3 卫生间:3 试衣间:3 地面:3 地上:2 地板:3 滑:2 积水:3 拥挤:3 挤:2 装修:2
        购物车:3 购物篮:3 寄存柜:3 电梯:3 扶梯:3 台阶:3 座位:2 休息区:3 母婴室:3 指示牌:3 标识:2 指引:2 垃圾桶:3
        垃圾:1 老鼠:3 蟑螂:3 腥臭味:3 冷柜:2 冷冻柜:3 门口:2 玻璃门:3 电动门:3 安全出口:3 消防通道:3 监控:2
        摄像头:2 插座:2 灯管:3 游乐区:3 滑梯:2 煤气:2 打扫:2 清理:2 挡风帘:3 布局:2 逛:1 自行车:2 门店:1 店里:1
        店内:1 堆头:2 舒服:1 人太多:2 收银区:1 冷冻区:2 太窄:2 人挤人:3
        clean*:2 dirty:3 filthy:3 messy:3 toilet*:3 restroom*:3 bathroom*:3 parking:3 aisle*:3 shelf:2 shelves:2
        noisy:3 crowded:3 air_conditioning:3 fitting_room*:3 floor:3 trolley*:3 smell*:2 layout:3 store:1
        spaces:1 inside:1
        """,
    C.MEMBERSHIP_POINTS: """
        积分:4 会员卡:4 会员:2 会员等级:4 会员权益:4 会员日:2 等级:2 升级:2 降级:3 兑换:2 权益:3 生日礼:4 储值:3
        储值卡:4 余额:2 会员价:4 会员码:4 到账:2 清零:3 金卡:3 白金:3 普卡:3 会员账户:4 账户:2 账号:2 注册:2
        续费:2 年卡:2 新人礼包:4 礼包:2 兑换商城:4 积分规则:4 转赠:3 通兑:3 盗刷:2 被盗:2 礼品:2 积分不足:4
        points:3 membership:3 member:2 loyalty:3 tier:3 redeem*:3 redemption:3 reward*:2 voucher*:3
        member_card:4 member_price:4 balance:2 welcome_points:4 downgraded:2 birthday:2 account:2 expire:1
        """,
    C.OTHER: "",
}

_SYNONYMS = """
    拉肚子=腹泻 闹肚子=腹泻 跑厕所=腹泻 吐了=呕吐 想吐=呕吐 反胃=呕吐 上吐下泻=呕吐 呕=呕吐 食品安全=安全
    快递小哥=快递员 外卖小哥=骑手 送货员=配送员 服务生=服务员 售货员=营业员 收银小姐=收银员 柜员=营业员
    价码=价格 标签价=标价 差评=不满 优惠卷=优惠券 积份=积分 会员积分=积分 点数=积分 洗手池=洗手间
    mouldy=mould* moldy=mold* threw_up=vomit* nauseous=vomit*
"""

_POSITIVE = """
    满意 好评 喜欢 赞 点赞 感谢 谢谢 热情 耐心 推荐 不错 很好 非常好 棒 贴心 周到 方便 新鲜 干净 快速 及时 划算
    舒服 专业 礼貌 好吃 实惠 支持 松软 饱满 实用
    great good excellent thank* love* friendly helpful recommend* amazing happy satisfied fast clean perfect nice
    patient well_done
"""

_NEGATIVE = """
    不满 失望 生气 糟糕 恶心 投诉 垃圾 坑人 欺骗 不好 难吃 不新鲜 差劲 很差 太差 真差 极差 态度差 质量差 服务差
    差 慢 太慢 很慢 退款 不耐烦 冷漠 脏 破损 过期 变质 多收 送错 漏发 少发 太贵 贵 坏 烂 臭 吵 挤 乱 坑 骗人
    敷衍 恶劣 延误 漏 缺货 麻烦 不方便 不尊重 不礼貌 不专业 危险 膈应 问题
    bad terrible awful disappoint* angry rude* worst poor horrible complain* unacceptable dirty filthy broken slow
    refund* wrong missing never_again late rotten stale expensive overcharg* nightmare confusing unfair
"""

# Health, food safety, injury, fire and electricity, legal threats and the authorities.
_URGENT = """
    过敏 过敏反应 食物中毒 中毒 吃坏肚子 腹泻 呕吐 肚子疼 肚子绞痛 胃不舒服 头晕 心慌 发烧 起疹子 红疹 疹子
    肠胃炎 洗胃 急诊 医院 住院 送医 就医 挂水 受伤 摔伤 骨折 划伤 割伤 烫伤 划破 划了 砸到 砸伤 夹到 撞倒 摔倒 滑倒
    流血 缝针 崩了 漏电 触电 被电 着火 起火 冒烟 火花 煤气 泄漏 危险 安全 玻璃渣 碎玻璃 刀片 钉子 金属片 铁丝 异物
    老鼠屎 死苍蝇 烟头 虫子 误食 吞下 窒息 噎 农药 报警 律师 起诉 法院 法律程序 12315 消协 市场监管局 工商局
    举报 曝光 媒体 验伤 打人 动手 吓人 推搡
    allerg* food_poisoning poison* injur* unsafe safety hospital* vomit* diarrh* chok* burn* fire smoke
    electric_shock glass blade stitches dangerous lawyer* sue police lawsuit bleeding
"""

# As the chains' article routes them: quality management, customer service, marketing, logistics.
_ROUTING = {
    C.PRODUCT_QUALITY: "quality_management",
    C.SERVICE_ATTITUDE: "customer_service",
    C.PRICING_PROMOTIONS: "marketing",
    C.DELIVERY_LOGISTICS: "logistics",
    C.STORE_ENVIRONMENT: "store_operations",
    C.MEMBERSHIP_POINTS: "membership",
    C.OTHER: "customer_service",
}


def _words(block: str) -> list[str]:
    """Space-separated entries; an English phrase is written with underscores (customer_service)."""
    return [part.replace("_", " ") for part in block.split()]


def _weighted(block: str) -> tuple[list[str], dict[str, int]]:
    words, weights = [], {}
    for entry in _words(block):
        word, _, weight = entry.partition(":")
        words.append(word)
        if weight and int(weight) != 1:
            weights[word] = int(weight)
    return words, weights


def default_config_data() -> dict:
    keywords, weights = {}, {}
    for category, block in _KEYWORDS.items():
        words, category_weights = _weighted(block)
        keywords[category] = words
        for word, weight in category_weights.items():
            weights[word] = max(weight, weights.get(word, 1))
    synonyms = dict(entry.split("=", 1) for entry in _words(_SYNONYMS))
    return {
        "keywords": keywords, "keyword_weights": weights, "synonyms": synonyms,
        "positive_words": _words(_POSITIVE), "negative_words": _words(_NEGATIVE), "urgent_words": _words(_URGENT),
        "routing": _ROUTING, "urgent_due_hours": 4, "high_due_hours": 24, "normal_due_hours": 48,
    }
