"""Horizontal bar charts with intervals for pages, as hand-written SVG (no matplotlib).

One renderer, :func:`bars_svg`, for every bar chart a page shows: a question's options
(:func:`question_bars`) and a cross-tabulation's groups for one option (:func:`cross_bars`).
Each bar carries its estimate, its 95% interval drawn as a line with end ticks and, for a
row with too few responses, the words 样本不足 instead of a bar. Labels and notes are SVG
text (Chinese stays text: searchable, copyable, sharp at any zoom). Built in well under a
millisecond; the PNG downloads and the Word briefing still draw with matplotlib
(:mod:`survey.reporting.charts.question_charts`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

from survey.reporting.charts.svg import COLOURS
from survey.reporting.charts.svg import FONT
from survey.reporting.questions.results import CrossTable
from survey.reporting.questions.results import QuestionStat
from survey.reporting.results import Estimate

WIDTH: Final = 640
LABEL_WIDTH: Final = 190
ROW: Final = 26
TOP: Final = 34
BOTTOM: Final = 40
PLOT: Final = WIDTH - LABEL_WIDTH - 70


@dataclass(frozen=True)
class Bar:
    """One bar: its label and estimate; ``grey`` for non-substantive answers."""

    label: str
    estimate: Estimate
    grey: bool = False


def _x(share: float) -> float:
    return LABEL_WIDTH + max(0.0, min(share, 1.0)) * PLOT


def _row(i: int, bar: Bar) -> list[str]:
    """The label, the bar, its interval and its value (or why there is none)."""
    y = TOP + i * ROW
    label = escape(textwrap.shorten(bar.label, 16, placeholder="…"))
    out = [
        f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{label}'
        f"<title>{escape(bar.label)}</title></text>"
    ]
    est = bar.estimate
    if est.estimate is None or est.too_few:
        reason = escape(est.reason or ("样本不足" if est.too_few else "无法估计"))
        few = COLOURS["few"]
        out.append(f'<text x="{LABEL_WIDTH + 4}" y="{y + 16}" fill="{few}">{reason}</text>')
        return out
    colour = COLOURS["few"] if bar.grey else COLOURS["line"]
    width = _x(est.estimate) - LABEL_WIDTH
    text = f"{est.estimate * 100:.1f}%"
    right = _x(est.estimate)
    out.append(
        f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{width:.1f}" height="14" fill="{colour}"'
        f' fill-opacity="0.8"><title>{escape(bar.label)}：{text}，n = {est.n}</title></rect>'
    )
    if est.ci_low is not None and est.ci_high is not None:
        lo, hi = _x(est.ci_low), _x(est.ci_high)
        mid = y + 12
        out.append(
            f'<path d="M{lo:.1f},{mid}H{hi:.1f}M{lo:.1f},{mid - 5}V{mid + 5}M{hi:.1f},{mid - 5}'
            f'V{mid + 5}" stroke="#333" stroke-width="1.2" fill="none"/>'
        )
        right = max(right, hi)
        text += f"（{est.ci_low * 100:.1f}–{est.ci_high * 100:.1f}）"
    out.append(f'<text x="{right + 4:.1f}" y="{y + 16}">{escape(text)}</text>')
    return out


def _axis(height: float) -> list[str]:
    out = []
    for tick in (0, 25, 50, 75, 100):
        x = _x(tick / 100)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM + 6}"'
            f' stroke="{COLOURS["grid"]}"/>'
            f'<text x="{x:.1f}" y="{height - BOTTOM + 20}" text-anchor="middle"'
            f' fill="{COLOURS["axis"]}">{tick}%</text>'
        )
    return out


def bars_svg(title: str, bars: Sequence[Bar], note: str) -> str:
    """The chart as an inline SVG string."""
    height = TOP + ROW * max(len(bars), 1) + BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}"'
        f" font-family='{FONT}' font-size=\"12\">",
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{escape(textwrap.shorten(title, 44, placeholder='…'))}</text>",
        *_axis(height),
    ]
    for i, bar in enumerate(bars):
        parts += _row(i, bar)
    if not bars:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + 16}" text-anchor="middle">无有效答卷</text>')
    parts.append(
        f'<text x="{LABEL_WIDTH}" y="{height - 6}" font-size="10" fill="{COLOURS["axis"]}">'
        f"{escape(note)}</text></svg>"
    )
    return "".join(parts)


def shown(weighted: Estimate | None, unweighted: Estimate) -> Estimate:
    """The estimate a chart shows: weighted when the report is weighted."""
    return weighted if weighted is not None else unweighted


def question_bars(stat: QuestionStat) -> str:
    """One question's options with their intervals."""
    bars = [Bar(o.label, shown(o.weighted, o.unweighted), not o.substantive) for o in stat.options]
    note = f"答题 {stat.answered} 人；横线为 95% 置信区间；灰色为不了解/说不清"
    if stat.type == "multiple":
        note = "多选题：各项占答题人数的比例，合计可超过 100%；" + note
    return bars_svg(f"{stat.number}. {stat.text}", bars if stat.answered else [], note)


def cross_bars(table: CrossTable, option: int) -> str:
    """One option's share per group of a cross-tabulation, with intervals."""
    label = table.options[option][1]
    bars = [Bar(row.label, row.cells[option]) for row in table.rows]
    note = f"共 {table.question.answered} 人作答；横线为 95% 置信区间"
    return bars_svg(f"选择“{label}”的比例（按{table.by_label}）", bars, note)
