"""Trend charts for the dashboard page as hand-written SVG (text as text, no matplotlib).

The page shows four charts on every view; matplotlib takes a second or more per chart
(text layout dominates), which alone would break the page's time budget. These charts are
plain SVG strings built in well under a millisecond: the interval band, the estimates
(hollow where too few responses), the target line, axes with round ticks and a legend.
The PNG (and SVG) downloads still come from :mod:`survey.reporting.charts.images`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Final

from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import RATE_METRICS
from survey.reporting.results import TrendPoint
from survey.reporting.results import TrendSeries

WIDTH: Final = 640
HEIGHT: Final = 330
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 40, 50
FONT: Final = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif'
COLOURS: Final[dict[str, str]] = {
    "line": "#c0392b",
    "band": "#e6b0aa",
    "target": "#1f618d",
    "few": "#7f8c8d",
    "grid": "#e4e7eb",
    "axis": "#52606d",
}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2, 2.5 or 5 times 10^k)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        low, high = low - 1.0, high + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    ticks.append(round(value, 10))
    while value < high - step * 1e-9:
        value += step
        ticks.append(round(value, 10))
    return ticks


def _fmt(value: float, percent: bool) -> str:
    text = f"{value:.{0 if float(value).is_integer() else 1}f}"
    return f"{text}%" if percent else text


def trend_svg(series: TrendSeries) -> str:
    """The weekly trend of one metric: interval band, estimates, target; an ``<svg>``."""
    metric = series.metric
    percent = metric in RATE_METRICS
    scale = 100.0 if percent else 1.0
    title = f"{series.name or METRIC_NAMES.get(metric, metric)}（按周）"
    points = series.points
    shown = [
        (i, p)
        for i, p in enumerate(points)
        if p.estimate.estimate is not None and math.isfinite(p.estimate.estimate)
    ]
    good = [(i, p) for i, p in shown if not p.estimate.too_few]
    target = None if series.target is None else series.target * scale
    ticks = _ticks(shown, good, scale, target)
    y0, y1 = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        slots = max(len(points), 1)
        return LEFT + plot_w * (i + 0.5) / slots

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y0) / (y1 - y0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)}" font-family=\'{FONT}\' font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    out += _axes(ticks, [p.week.strftime("%m-%d") for p in points], percent, x, y)
    banded = [
        (i, p) for i, p in good if p.estimate.ci_low is not None and p.estimate.ci_high is not None
    ]
    out += _band_and_line(banded, good, scale, x, y)
    out += _marks(shown, scale, percent, x, y)
    if target is not None:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}"'
            f' stroke="{COLOURS["target"]}" stroke-dasharray="6 4"/>'
        )
    if not shown:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle"'
            f' fill="{COLOURS["axis"]}">无有效答卷</text>'
        )
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none"'
        f' stroke="{COLOURS["axis"]}"/>'
    )
    out += _legend(bool(banded), bool(good), len(shown) > len(good), target, percent)
    out.append("</svg>")
    return "".join(out)


def _ticks(
    shown: list[tuple[int, TrendPoint]],
    good: list[tuple[int, TrendPoint]],
    scale: float,
    target: float | None,
) -> list[float]:
    """Round y ticks covering the estimates, the intervals of the shown weeks and the target."""
    values = [p.estimate.estimate * scale for _, p in shown]  # type: ignore[operator]
    for _, p in good:
        for bound in (p.estimate.ci_low, p.estimate.ci_high):
            if bound is not None:
                values.append(bound * scale)
    if target is not None:
        values.append(target)
    return nice_ticks(min(values), max(values)) if values else nice_ticks(0.0, 100.0)


def _band_and_line(
    banded: list[tuple[int, TrendPoint]],
    good: list[tuple[int, TrendPoint]],
    scale: float,
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> list[str]:
    """The interval band over the weeks with an interval, the line through the estimates."""
    out = []
    if banded:
        upper = [f"{x(i):.1f},{y(p.estimate.ci_high * scale):.1f}" for i, p in banded]  # type: ignore[operator]
        lower = [f"{x(i):.1f},{y(p.estimate.ci_low * scale):.1f}" for i, p in reversed(banded)]  # type: ignore[operator]
        out.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{COLOURS["band"]}"'
            ' fill-opacity="0.6"/>'
        )
    if good:
        line = " ".join(f"{x(i):.1f},{y(p.estimate.estimate * scale):.1f}" for i, p in good)  # type: ignore[operator]
        out.append(
            f'<polyline points="{line}" fill="none" stroke="{COLOURS["line"]}" stroke-width="2"/>'
        )
    return out


def _marks(
    shown: list[tuple[int, TrendPoint]],
    scale: float,
    percent: bool,
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> list[str]:
    """One dot per week with an estimate (hollow where too few responses), with its tooltip."""
    out = []
    for i, p in shown:
        value = p.estimate.estimate * scale  # type: ignore[operator]
        label = escape(f"{p.week.isoformat()}：{_fmt(round(value, 1), percent)}")
        if p.estimate.too_few:
            label += escape(f"，{p.estimate.reason}")
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" fill="#fff"'
                f' stroke="{COLOURS["few"]}" stroke-width="1.5"><title>{label}</title></circle>'
            )
        else:
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" fill="{COLOURS["line"]}">'
                f"<title>{label}</title></circle>"
            )
    return out


def _axes(
    ticks: list[float],
    labels: list[str],
    percent: bool,
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> list[str]:
    """Grid lines with tick labels, week labels and the axis titles."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = []
    for tick in ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"'
            f' stroke="{COLOURS["grid"]}"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end"'
            f' fill="{COLOURS["axis"]}">{_fmt(tick, percent)}</text>'
        )
    for i, label in enumerate(labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle"'
            f' fill="{COLOURS["axis"]}">{label}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle"'
        f' fill="{COLOURS["axis"]}">周（起始日）</text>'
        f'<text transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle"'
        f' fill="{COLOURS["axis"]}">{"百分比" if percent else "得分（0–100）"}</text>'
    )
    return out


def _legend(band: bool, line: bool, few: bool, target: float | None, percent: bool) -> list[str]:
    items: list[tuple[str, str]] = []
    if band:
        items.append(
            (
                f'<rect width="14" height="8" y="-7" fill="{COLOURS["band"]}" fill-opacity="0.6"/>',
                "95% 置信区间",
            )
        )
    if line:
        items.append((f'<circle cx="7" cy="-3" r="3.5" fill="{COLOURS["line"]}"/>', "估计值"))
    if few:
        items.append(
            (
                f'<circle cx="7" cy="-3" r="3.5" fill="#fff" stroke="{COLOURS["few"]}"/>',
                "样本不足（仅供参考）",
            )
        )
    if target is not None:
        text = f"目标 {_fmt(round(target, 1), percent)}"
        items.append(
            (
                f'<line x1="0" x2="14" y1="-3" y2="-3" stroke="{COLOURS["target"]}"'
                ' stroke-dasharray="4 2"/>',
                text,
            )
        )
    out = []
    cursor = float(LEFT)
    for mark, text in items:
        out.append(
            f'<g transform="translate({cursor:.0f} {TOP - 6})">{mark}'
            f'<text x="18" y="1" font-size="12">{escape(text)}</text></g>'
        )
        cursor += 28 + 12 * len(text)
    return out
