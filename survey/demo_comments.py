"""Residents' comments for the demo city, and the weak spots seeded into its answers.

The demo's satisfaction answers are lower in :data:`SEEDED_WEAK_SPOTS` (a street and a
satisfaction item, with a logit shift), and residents there write more about the matching
topic, so the 问题清单 page has something real to find. A few comments carry planted
personal data (a phone number, an ID number, a name) that the pages must mask.
"""

from __future__ import annotations

import random
from typing import Final

#: (street code, satisfaction item) -> logit shift of a positive answer at that street's points.
SEEDED_WEAK_SPOTS: Final[dict[tuple[str, str], float]] = {
    ("999901002", "sat_sanitation"): -1.5,  # 东门街道: environment and sanitation
    ("999902002", "sat_traffic"): -1.5,  # 松林街道: traffic order
    ("999903003", "sat_market"): -1.5,  # 创业街道: markets
}
#: Topic residents of a seeded street write about most.
SEEDED_TOPICS: Final[dict[str, str]] = {
    "999901002": "sanitation",
    "999902002": "traffic",
    "999903003": "market",
}
#: Share of respondents who leave a comment, and of those in a seeded street who write
#: about its topic.
COMMENT_SHARE: Final = 0.3
SEEDED_TOPIC_SHARE: Final = 0.6
#: Share of comments with planted personal data.
PLANTED_SHARE: Final = 0.03

COMMENTS: Final[dict[str, tuple[str, ...]]] = {
    "sanitation": (
        "小区门口的垃圾桶经常满出来，味道很大",
        "路边的绿化带里全是烟头和塑料袋，希望多打扫",
        "河边的水沟又黑又臭，夏天蚊子多",
        "街上的小广告贴得到处都是，影响市容",
        "早上环卫工扫过，中午又脏了，保洁跟不上",
    ),
    "back_lanes": (
        "巷子里的路灯坏了很久，晚上不敢走",
        "后街的路面坑坑洼洼，下雨全是积水",
        "背街小巷私搭乱建太多，消防车进不去",
    ),
    "sorting": (
        "垃圾分类桶摆着，清运的时候还是混在一起倒",
        "厨余垃圾桶没盖子，招苍蝇",
        "定时定点投放时间太早，上班族赶不上",
    ),
    "traffic": (
        "小区门口两边停满了车，救护车都进不来",
        "电动车逆行闯红灯太多了，很危险",
        "学校门口接孩子的车把路堵死了",
        "停车位太少，晚上回家只能乱停",
        "路口的红绿灯时间太短，老人过不完马路",
    ),
    "market": (
        "菜市场地上全是水，又滑又脏",
        "有的摊主缺斤短两，希望市场监管查一查",
        "农贸市场的活禽区味道太大",
        "菜场里面的价格不标价，问一个价说一个价",
        "市场里卖肉的案板上苍蝇乱飞",
    ),
    "street_vending": (
        "人行道上摆满了水果摊，走路只能走马路",
        "晚上的烧烤摊把桌子摆到路中间",
        "流动摊贩到处摆摊，城管一走又回来",
    ),
    "toilets": (
        "公园里的公厕太少，老人找不到厕所",
        "公共厕所没有纸也没有洗手液",
    ),
    "old_estates": (
        "老小区没有电梯，老人上下楼太难",
        "楼道里堆满了杂物，物业也不管",
        "屋顶漏水好几年了，希望纳入老旧小区改造",
    ),
    "public_services": (
        "政务中心排队太久，窗口开得太少",
        "社区医院的医生很耐心，看病方便",
        "公交车班次太少，等车要半个小时",
    ),
    "noise": (
        "广场舞的音响太吵了，晚上十点还不停",
        "工地夜间施工，吵得睡不着觉",
    ),
    "": (
        "希望创文工作坚持下去，不要检查完就松懈",
        "整体感觉城市越来越好了",
        "没有意见",
        "辛苦了，继续加油",
    ),
}
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = ("小明", "建国", "秀英", "伟", "丽", "志强", "桂兰", "军")


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _id_number(rng: random.Random) -> str:
    born = f"19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"330102{born}{rng.randint(100, 999)}{rng.choice('0123456789X')}"


def planted(rng: random.Random) -> str:
    """Personal data a resident might type, to be masked: name, phone and/or ID number."""
    name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
    forms = (
        f"我叫{name}，电话{_phone(rng)}，有事可以联系我。",
        f"联系人：{name}，手机{_phone(rng)}",
        f"本人身份证号{_id_number(rng)}，请核实后回复。",
        f"有问题打{_phone(rng)}找我。",
    )
    return rng.choice(forms)


def comment_for(rng: random.Random, street_code: str | None) -> str | None:
    """A comment (or None: no comment) from a respondent at a point in ``street_code``."""
    if rng.random() >= COMMENT_SHARE:
        return None
    seeded = SEEDED_TOPICS.get(street_code or "")
    if seeded is not None and rng.random() < SEEDED_TOPIC_SHARE:
        topic = seeded
    else:
        topic = rng.choice(sorted(COMMENTS))
    text = rng.choice(COMMENTS[topic])
    if rng.random() < PLANTED_SHARE:
        text = f"{text}。{planted(rng)}"
    return text[:200]
