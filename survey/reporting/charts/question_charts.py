"""A question's bar chart as a PNG (matplotlib), for the download link and printed material:
one bar per option with its 95% interval, non-substantive options in grey, 样本不足 said.
Pages draw the same chart as light SVG (:mod:`survey.reporting.charts.bars`)."""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from survey.reporting.charts.bars import shown
from survey.reporting.charts.images import COLOURS
from survey.reporting.charts.images import _render
from survey.reporting.charts.images import chart_style
from survey.reporting.questions.results import QuestionStat


def _question_figure(stat: QuestionStat) -> Figure:
    labels = [o.label for o in stat.options]
    fig = Figure(figsize=(6.4, max(2.2, 0.42 * len(labels) + 1.3)))
    ax = fig.subplots()
    for i, o in enumerate(stat.options):
        est = shown(o.weighted, o.unweighted)
        if est.estimate is None:
            continue
        colour = COLOURS["few"] if (est.too_few or not o.substantive) else COLOURS["line"]
        ax.barh(i, est.estimate * 100, color=colour, alpha=0.85, height=0.6)
        if est.ci_low is not None and est.ci_high is not None and not est.too_few:
            ax.plot([est.ci_low * 100, est.ci_high * 100], [i, i], color="#333333", lw=1.2)
        right = max(est.estimate, est.ci_high or 0.0) * 100
        ax.text(right + 1, i, f"{est.estimate * 100:.1f}%", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([textwrap.shorten(x, 18, placeholder="…") for x in labels])
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    title = textwrap.shorten(f"{stat.number}. {stat.text}", 40, placeholder="…")
    ax.set_title(title, fontsize=10)
    note = "横线为 95% 置信区间；灰色为不了解/说不清或样本不足"
    if stat.type == "multiple":
        note = "多选题：各项占答题人数的比例，合计可超过 100%；" + note
    ax.set_xlabel(note, fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    if not stat.answered:
        ax.text(0.5, 0.5, "无有效答卷", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    return fig


def question_chart(stat: QuestionStat, fmt: str = "svg", dpi: int = 150) -> bytes:
    """The bar chart of one question as SVG (text kept as text) or PNG."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown chart format {fmt!r}")
    with chart_style():
        return _render(_question_figure(stat), fmt, dpi)
