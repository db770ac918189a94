"""Masking of personal data that residents type into comments: phone numbers, ID numbers,
names. Applied before any page, export or API shows a comment (pure, no jieba needed).

What is masked, and how (the heuristic and its limits):

- **ID numbers**: 18 characters, 17 digits then a digit or X (the resident identity card),
  also written with spaces or hyphens in groups (6-8-4); 15-digit first-generation numbers.
  Replaced by ``[身份证号]``.
- **Phone numbers**: mainland mobiles (11 digits starting 13-19, optionally +86/0086,
  grouped 3-4-4 with spaces or hyphens); landlines with an area code (0 + 2-3 digits, then
  7-8 digits, optional hyphen or brackets). Replaced by ``[电话]``. Any other run of seven
  or more digits (with optional single separators) is replaced by ``[号码]``: it is much
  more often a number identifying someone (a phone without area code, a licence plate
  number, a QQ number) than survey content. Short public numbers (12345, 110, a house
  number 3-2-501) stay.
- **Names**: (1) after a cue that introduces a person: 我叫 / 名字叫 / 名字是 / 叫做 /
  本人姓名 / 举报人 / 反映人 / 联系人 / 联系 / 找, optionally followed by a colon, a common
  surname (:data:`SURNAMES`, or a compound one) and 1-2 more characters; after 姓名 / 联系人 /
  名字 / 举报人 / 反映人 with a colon, any 2-4 characters; (2) a common surname + 1-2
  characters directly before a phone number (once that is masked); (3) 我姓X / 本人姓X:
  the surname; all replaced by ``[姓名]``; (4) a common surname followed by a title
  (先生, 女士, 师傅, 阿姨, 大爷, 老师, 经理, 主任, 书记, 队长, ...): the surname becomes 某
  (``王师傅`` -> ``某师傅``). Already anonymised forms (张某, 李某某) stay. 我是 is not a cue
  ("我是高新街道的": 高 is a surname); after 联系/找, words such as 方式, 管理, 关系, 不到
  are not taken for names.

Limits: a bare name in running text without one of these cues ("王建国天天在楼下烧烤") is
not detected: telling it from ordinary words needs a name model, and a rule that masks any
surname + 1-2 characters would mangle place and street names (高新街道, 黄河路, 白鹭镇).
A rare surname outside the list is missed after 我叫 (not after 姓名：). Rule (2) may
mask the word before a phone number that starts with a surname character (管理处 -> [姓名]):
an error on the safe side. Numbers written in Chinese numerals (一三八…) are not masked.
"""

from __future__ import annotations

import re

__all__ = ["SURNAMES", "mask_personal"]

#: Common single-character surnames (the most frequent ~190, covering ~95% of people).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")
TITLES = (
    "先生|女士|小姐|师傅|阿姨|大爷|大妈|大姐|大哥|老师|经理|主任|书记|队长|科长|所长|站长|警官|"
    "医生|护士|老板"
)
_HAN = "\u4e00-\u9fff"
_SUR = f"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])"
_NOT_SOME = "(?!某)"  # 张某 / 李某某 are already anonymous
_GIVEN = f"[{_HAN}]{{1,2}}"
_CUES = "我叫|名字叫|名字是|叫做|本人姓名|举报人|反映人|联系人|联系|请找|找"
#: Words after a cue that start with a surname character but are no name.
_NOT_NAMES = "(?!方式|方法|电话|号码|管理|关系|不到)"

_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{6}[- ]?\d{8}[- ]?\d{3}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])[(（]?0\d{2,3}[)）]?[- ]?\d{7,8}(?![0-9])")
_LONG_NUMBER = re.compile(r"(?<![0-9])\d(?:[- ]?\d){6,}(?![0-9])")
_NAME_AFTER_COLON = re.compile(
    rf"((?:姓名|联系人|名字|举报人|反映人)\s*[:：]\s*){_NOT_SOME}[{_HAN}]{{2,4}}"
)
_NAME_AFTER_CUE = re.compile(
    rf"((?:{_CUES})\s*[:：]?\s*){_NOT_SOME}{_NOT_NAMES}{_SUR}{_NOT_SOME}{_GIVEN}"
)
_SURNAME_TITLE = re.compile(rf"{_SUR}(?=(?:{TITLES}))")
_NAME_BEFORE_PHONE = re.compile(
    rf"{_NOT_NAMES}{_SUR}{_NOT_SOME}{_GIVEN}"
    r"(?=\s*的?(?:电话|手机|联系方式)?(?:是|为)?\s*[,，:：]?\s*\[(?:电话|号码)\])"
)
_MY_SURNAME = re.compile(rf"((?:我|本人)姓){_SUR}")


def mask_personal(text: str) -> str:
    """``text`` with ID numbers, phone numbers and names replaced by placeholders.

    >>> mask_personal("我叫王小明，电话13812345678")
    '我叫[姓名]，电话[电话]'
    """
    if not text:
        return text
    out = _ID18.sub("[身份证号]", text)
    out = _ID15.sub("[身份证号]", out)
    out = _MOBILE.sub("[电话]", out)
    out = _LANDLINE.sub("[电话]", out)
    out = _LONG_NUMBER.sub("[号码]", out)
    out = _NAME_AFTER_COLON.sub(r"\1[姓名]", out)
    out = _NAME_AFTER_CUE.sub(r"\1[姓名]", out)
    out = _NAME_BEFORE_PHONE.sub("[姓名]", out)
    out = _MY_SURNAME.sub(r"\1[姓名]", out)
    return _SURNAME_TITLE.sub("某", out)
