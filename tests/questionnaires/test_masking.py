"""Masking of personal data in residents' comments (questionnaires.mask_personal)."""

from __future__ import annotations

import pytest

from questionnaires import mask_personal


@pytest.mark.parametrize(
    ("text", "secret", "placeholder"),
    [
        ("我的电话13812345678，快来处理", "13812345678", "[电话]"),
        ("手机 138-1234-5678", "138-1234-5678", "[电话]"),
        ("请回电 +86 139 0755 1234", "139 0755 1234", "[电话]"),
        ("座机0571-88886666", "0571-88886666", "[电话]"),
        ("座机（020）87654321", "87654321", "[电话]"),
        ("身份证号110101199003071234", "110101199003071234", "[身份证号]"),
        ("身份证11010119900307123x核对", "11010119900307123x", "[身份证号]"),
        ("证件 110101 19900307 1234 ", "19900307", "[身份证号]"),
        ("老身份证 110101900307123", "110101900307123", "[身份证号]"),
        ("QQ 123456789 加我", "123456789", "[号码]"),
        ("我叫王小明，住三号楼", "王小明", "[姓名]"),
        ("联系人：李四", "李四", "[姓名]"),
        ("姓名：阿不都", "阿不都", "[姓名]"),
        ("有事找张建国", "张建国", "[姓名]"),
        ("欧阳娜娜的电话是 13812345678", "欧阳娜娜", "[姓名]"),
        ("刘德华13812345678", "刘德华", "[姓名]"),
        ("我姓赵，住在东门", "我姓赵", "我姓[姓名]"),
    ],
)
def test_planted_personal_data_is_masked(text: str, secret: str, placeholder: str) -> None:
    masked = mask_personal(text)
    assert secret not in masked
    assert placeholder in masked


def test_titles_keep_the_title_and_lose_the_surname() -> None:
    assert mask_personal("王师傅和李阿姨都很负责") == "某师傅和某阿姨都很负责"


@pytest.mark.parametrize(
    "text",
    [
        "打12345热线反映过，门牌3-2-501",
        "我是高新街道的居民",
        "联系方式不清楚",
        "张某某说过这事，李某也知道",
        "黄河路和白鹭镇的路灯不亮",
        "找不到公厕",
        "110出警很快，2024年改造过",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_personal(text) == text


def test_masking_is_idempotent() -> None:
    once = mask_personal("我叫王小明，电话13812345678，身份证110101199003071234")
    assert mask_personal(once) == once
    assert once == "我叫[姓名]，电话[电话]，身份证[身份证号]"
