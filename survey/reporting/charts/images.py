"""Charts drawn on the server with matplotlib (Figure objects, no pyplot state): SVG with
text kept as text, and PNG.

Chinese labels need a CJK font. The project installs one with pip: ``noto-cjk-sans-otc``
(Noto Sans CJK, SIL Open Font License), registered with matplotlib's font manager when this
module is imported. Debian's Droid Sans Fallback (``fonts-droid-fallback``) is used when
present as a second choice. Charts use these families through a local ``rc_context``, so
importing this module changes no global matplotlib setting.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Final

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import RATE_METRICS
from survey.reporting.results import GroupTable
from survey.reporting.results import TrendSeries

#: Font families, in order of preference (matplotlib falls back glyph by glyph).
FONT_FAMILY: Final[list[str]] = [
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",  # the collection's first face, for matplotlib before 3.11
    "Droid Sans Fallback",
    "DejaVu Sans",
]
DEBIAN_FALLBACK = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
COLOURS: Final[dict[str, str]] = {
    "line": "#c0392b",
    "band": "#e6b0aa",
    "target": "#1f618d",
    "few": "#7f8c8d",
}


def _register_fonts() -> list[str]:
    """Add the bundled CJK font (and Debian's fallback, if installed) to matplotlib."""
    added = []
    try:
        bundled = resources.files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"
        with resources.as_file(bundled) as path:
            if path.exists():
                font_manager.fontManager.addfont(str(path))
                added.append(str(path))
    except ModuleNotFoundError:  # pragma: no cover - a dependency in setup.cfg
        pass
    if DEBIAN_FALLBACK.exists():
        font_manager.fontManager.addfont(str(DEBIAN_FALLBACK))
        added.append(str(DEBIAN_FALLBACK))
    return added


REGISTERED_FONTS: Final[list[str]] = _register_fonts()


@contextmanager
def chart_style() -> Iterator[None]:
    """Fonts and output settings of every chart (SVG text stays text, stable ids, labels
    drawn as plain text)."""
    with matplotlib.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": FONT_FAMILY,
            "axes.unicode_minus": False,
            "svg.fonttype": "none",
            "svg.hashsalt": "survey-charts",
            "font.size": 10,
            # Labels are stored text (region, point, option names): drawn as typed, never
            # parsed as mathtext ("$\\nosuchcmd$" would raise inside savefig).
            "text.parse_math": False,
            "text.usetex": False,
        }
    ):
        yield


#: Characters of a stored name a chart shows (region names run to 100; the tables beside
#: the charts show them whole).
LABEL_WIDTH: Final = 20


def chart_label(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` on one line, cut to ``width`` characters with "…" (names without spaces,
    as Chinese ones are, cannot be shortened at word boundaries)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _percent(metric: str) -> bool:
    return metric in RATE_METRICS


def _scale(metric: str, value: float | None) -> float | None:
    if value is None:
        return None
    return value * 100.0 if _percent(metric) else value


def _trend_figure(series: TrendSeries) -> Figure:
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.subplots()
    metric = series.metric
    good = [p for p in series.points if not p.estimate.too_few and p.estimate.estimate is not None]
    few = [p for p in series.points if p.estimate.too_few and p.estimate.estimate is not None]
    if good:
        weeks = [p.week for p in good]
        low = [_scale(metric, p.estimate.ci_low) for p in good]
        high = [_scale(metric, p.estimate.ci_high) for p in good]
        ax.fill_between(weeks, low, high, color=COLOURS["band"], alpha=0.6, label="95% 置信区间")
        ax.plot(
            weeks,
            [_scale(metric, p.estimate.estimate) for p in good],
            "o-",
            color=COLOURS["line"],
            label="估计值",
        )
    if few:
        ax.plot(
            [p.week for p in few],
            [_scale(metric, p.estimate.estimate) for p in few],
            "o",
            mfc="none",
            color=COLOURS["few"],
            label="样本不足（仅供参考）",
        )
    if series.target is not None:
        target = _scale(metric, series.target)
        text = f"目标 {target:.0f}%" if _percent(metric) else f"目标 {target:g}"
        ax.axhline(target, color=COLOURS["target"], linestyle="--", linewidth=1, label=text)
    if not series.points or not (good or few):
        ax.text(0.5, 0.5, "无有效答卷", transform=ax.transAxes, ha="center", va="center")
    ax.set_title(f"{chart_label(series.name or METRIC_NAMES.get(metric, metric), 30)}（按周）")
    ax.set_xlabel("周（起始日）")
    ax.set_ylabel("百分比" if _percent(metric) else "得分（0–100）")
    if _percent(metric):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    ax.set_xticks([p.week for p in series.points])
    ax.set_xticklabels([p.week.strftime("%m-%d") for p in series.points])
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _groups_figure(table: GroupTable, metric: str) -> Figure:
    rows = [r for r in table.rows if r.metrics[metric].estimate.estimate is not None]
    fig = Figure(figsize=(6.4, max(2.0, 0.4 * len(rows) + 1.0)))
    ax = fig.subplots()
    for i, row in enumerate(rows):
        est = row.metrics[metric].estimate
        value = _scale(metric, est.estimate)
        colour = COLOURS["few"] if est.too_few else COLOURS["line"]
        if est.ci_low is not None and est.ci_high is not None and not est.too_few:
            ax.plot(
                [_scale(metric, est.ci_low), _scale(metric, est.ci_high)],
                [i, i],
                color=COLOURS["band"],
                linewidth=4,
            )
        ax.plot([value], [i], "o", color=colour, mfc="none" if est.too_few else colour)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [
            chart_label(r.label) + ("（样本不足）" if r.metrics[metric].estimate.too_few else "")
            for r in rows
        ]
    )
    ax.invert_yaxis()
    ax.set_title(f"{METRIC_NAMES.get(metric, metric)}：估计值与 95% 置信区间")
    if _percent(metric):
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _render(fig: Figure, fmt: str, dpi: int) -> bytes:
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(out, format=fmt, dpi=dpi, metadata=metadata)
    return out.getvalue()


def trend_chart(series: TrendSeries, fmt: str = "svg", dpi: int = 150) -> bytes:
    """The weekly trend of one metric with its interval band and target line.

    ``fmt`` is ``"svg"`` (text kept as text) or ``"png"`` (for download).
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown chart format {fmt!r}")
    with chart_style():
        return _render(_trend_figure(series), fmt, dpi)


def groups_chart(table: GroupTable, metric: str, fmt: str = "svg", dpi: int = 150) -> bytes:
    """Estimates with intervals of every row of a table (too few responses drawn hollow)."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown chart format {fmt!r}")
    with chart_style():
        return _render(_groups_figure(table, metric), fmt, dpi)


def inline_svg(svg: bytes) -> str:
    """The ``<svg>`` element of an SVG document, to put inline in an HTML page."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]
