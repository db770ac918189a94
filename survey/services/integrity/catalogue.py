"""Every quality flag: its code, default strength, Chinese name and the sentence that explains
one occurrence from its evidence.

A *strong* flag excludes its response from estimates until a reviewer clears it; a *weak* one
only informs (a reviewer who confirms any flag excludes the response). Where a signal can be
either, the detector decides per occurrence and says why in the evidence (a burst is strong
only when something else in the same minutes corroborates it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from survey.models import QualityFlag


@dataclass(frozen=True)
class FlagKind:
    """What one flag code means."""

    flag: QualityFlag
    strength: str
    name: str
    #: ``str.format`` template filled from the evidence (missing keys show as "?").
    sentence: str

    @property
    def code(self) -> str:
        """The code stored in ``response_flags.code`` (the ``QualityFlag`` member name)."""
        return str(self.flag.name)


KINDS: tuple[FlagKind, ...] = (
    FlagKind(
        QualityFlag.TOO_FAST,
        "strong",
        "用时过短",
        "用时{duration}秒，少于按所见题目字数估算的最短阅读用时{minimum}秒。",
    ),
    FlagKind(
        QualityFlag.HONEYPOT,
        "strong",
        "填写了隐藏项",
        "填写了页面上对居民不可见、只有程序才会填写的隐藏项。",
    ),
    FlagKind(
        QualityFlag.PRELOADED,
        "strong",
        "集中提交",
        "{count}份问卷在{span}秒内先后提交（打开时间相差{served_span}秒），"
        "像是预先打开一批问卷后集中提交。",
    ),
    FlagKind(
        QualityFlag.SERIAL,
        "strong",
        "连续代填",
        "同一网络、同一浏览器类型在本点位一份接一份地填写了{count}份问卷"
        "（每份提交后{max_gap}秒内打开下一份，{first}至{last}）。",
    ),
    FlagKind(
        QualityFlag.UNIFORM,
        "strong",
        "答案雷同",
        "本点位{n}份相邻答卷中有{similar}份（{share}）的{items}道指标题答案与同一组答案"
        "相差不超过{distance}题，全市同类答卷只占{city_share}。",
    ),
    FlagKind(
        QualityFlag.SKEWED,
        "strong",
        "答案分布异常集中",
        "本点位{n}份相邻答卷的{detail}，像是按预设比例批量生成。",
    ),
    FlagKind(
        QualityFlag.BURST,
        "weak",
        "点位短时激增",
        "{minutes}分钟内本点位收到{count}份答卷，约为本点位以往同样时长的{own_ratio}倍、"
        "同渠道常见水平的{channel_ratio}倍。{corroboration}",
    ),
    FlagKind(
        QualityFlag.SHARED_NETWORK,
        "weak",
        "同一网段多设备",
        "{minutes}分钟内有{devices}台不同设备从同一网段在本点位提交"
        "（同一运营商出口常见，仅作提示）。",
    ),
    FlagKind(
        QualityFlag.STRAIGHT_LINE,
        "weak",
        "满意度题全选同一项",
        "{items}道满意度题全部选择“{label}”。",
    ),
    FlagKind(
        QualityFlag.RESIDENCE,
        "weak",
        "居住地与点位不符",
        "在社区公告栏等本地点位填写，但所填居住地{residence}不在点位所在的{district}。",
    ),
    FlagKind(
        QualityFlag.OUT_OF_WINDOW,
        "weak",
        "不在采集时段",
        "提交时间{submitted}不在本点位设定的采集时段（{window}）内。",
    ),
    FlagKind(
        QualityFlag.SATISFACTION_JUMP,
        "weak",
        "满意度突变",
        "本点位最近{n}份答卷的满意率为{recent}，此前{history_n}份为{history}。",
    ),
    FlagKind(
        QualityFlag.ODD_HOURS,
        "weak",
        "非常规时段",
        "本点位在{hours}收到{count}份答卷；全市在这些时段的答卷只占{city_share}。",
    ),
    FlagKind(
        QualityFlag.NO_TIMING,
        "weak",
        "无法计时",
        "没有可信的问卷打开时间，无法核对用时。",
    ),
    # Mock-assessment interviews (curbstoning): weak, a supervisor reviews them.
    FlagKind(
        QualityFlag.FIELD_SHORT,
        "weak",
        "访问用时过短",
        "访问用时{duration}秒，不到本方案访问用时中位数{median}秒的{share}。",
    ),
    FlagKind(
        QualityFlag.FIELD_UNIFORM,
        "weak",
        "访问答案雷同",
        "访问员{interviewer}有{count}份访问的全部答案完全相同。",
    ),
    FlagKind(
        QualityFlag.FIELD_RUN,
        "weak",
        "同地连续访问",
        "访问员{interviewer}在{community}连续完成{count}份访问，相邻两份相隔不到{gap}分钟"
        "（{first}至{last}）。",
    ),
)

BY_CODE: dict[str, FlagKind] = {k.code: k for k in KINDS}
BY_FLAG: dict[QualityFlag, FlagKind] = {k.flag: k for k in KINDS}

#: Codes whose default strength is strong.
STRONG_CODES: frozenset[str] = frozenset(k.code for k in KINDS if k.strength == "strong")
#: Weak kinds that fire on more than a tenth of honest responses in ``benchmarks/integrity.py``
#: (carrier networks, people answering where they work, content residents, popular pushes):
#: kept as corroborating signals for the sweep's decisions, never shown as a flag on a
#: response. A burst made strong by corroboration is shown (it excludes).
SIGNAL_CODES: frozenset[str] = frozenset({"SHARED_NETWORK", "RESIDENCE", "STRAIGHT_LINE", "BURST"})
#: ``Response.flags`` bits a reviewer sees: excluded, or any flag kind that is not a signal.
VISIBLE_MASK: int = int(QualityFlag.EXCLUDED) | sum(
    int(k.flag) for k in KINDS if k.code not in SIGNAL_CODES
)
#: Bits computed per response when it is stored that are strong.
STRONG_ON_STORE: QualityFlag = QualityFlag.TOO_FAST | QualityFlag.HONEYPOT


def visible(code: str, strength: str) -> bool:
    """True when a flag row of ``code`` at ``strength`` is shown as a flag."""
    return strength == "strong" or code not in SIGNAL_CODES


def visibly_flagged(flags: int) -> bool:
    """True when a response's ``flags`` show a reviewer anything."""
    return bool(flags & VISIBLE_MASK)


def visible_names(flags: int) -> list[str]:
    """Chinese names of the flags a reviewer sees on a response (a burst when it excludes)."""
    shown = VISIBLE_MASK
    if flags & int(QualityFlag.EXCLUDED):
        shown |= int(QualityFlag.BURST)
    return [k.name for k in KINDS if flags & int(k.flag) & shown]


def kind(code: str) -> FlagKind:
    """The kind of ``code``; ``KeyError`` for an unknown code."""
    return BY_CODE[code]


def name_of(code: str) -> str:
    """The Chinese name of ``code`` (the code itself when unknown)."""
    found = BY_CODE.get(code)
    return found.name if found else code


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def explain(code: str, evidence: Mapping[str, Any] | str) -> str:
    """The Chinese sentence of one flag, filled from its evidence."""
    found = BY_CODE.get(code)
    if found is None:
        return code
    data = json.loads(evidence) if isinstance(evidence, str) else dict(evidence)
    return found.sentence.format_map(_Missing({k: _show(v) for k, v in data.items()}))


def _show(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return value
