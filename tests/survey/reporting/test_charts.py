"""Charts: Chinese text renders with a real CJK glyph (no tofu), SVG keeps text as text."""

from __future__ import annotations

import datetime as dt

import pytest
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from survey.reporting import Estimate
from survey.reporting import GroupRow
from survey.reporting import GroupTable
from survey.reporting import MetricResult
from survey.reporting import TrendPoint
from survey.reporting import TrendSeries
from survey.reporting.charts.images import FONT_FAMILY
from survey.reporting.charts.images import REGISTERED_FONTS
from survey.reporting.charts.images import groups_chart
from survey.reporting.charts.images import inline_svg
from survey.reporting.charts.images import trend_chart

LABELS = "知晓率参与率满意率满意度得分按周目标置信区间估计值样本不足仅供参考起始日百分比"


def series(metric: str = "awareness", target: float | None = 0.9) -> TrendSeries:
    start = dt.date(2026, 11, 2)
    points = []
    for i, (value, n) in enumerate([(0.81, 120), (0.84, 140), (0.86, 12)]):
        estimate = Estimate(
            metric,
            value,
            0.02,
            value - 0.04,
            value + 0.04,
            n,
            deff=1.3,
            too_few=n < 30,
            reason="样本不足（n=12）" if n < 30 else "",
        )
        points.append(TrendPoint(start + dt.timedelta(weeks=i), estimate))
    return TrendSeries(metric, "知晓率", points, target)


def test_the_bundled_cjk_font_is_registered_and_has_every_glyph() -> None:
    assert any("NotoSansCJK" in path for path in REGISTERED_FONTS)
    font = font_manager.get_font(
        font_manager.findfont(FontProperties(family=FONT_FAMILY), fallback_to_default=False)
    )
    assert "CJK" in font.family_name
    missing = [ch for ch in LABELS + "0123456789%（）" if font.get_char_index(ord(ch)) == 0]
    assert missing == []


def test_svg_keeps_chinese_text_as_text() -> None:
    # pytest turns matplotlib's "Glyph ... missing from font" warning into an error
    svg = trend_chart(series(), "svg").decode("utf-8")
    assert "知晓率（按周）" in svg
    assert "目标 90%" in svg and "95% 置信区间" in svg and "样本不足" in svg
    assert "Noto Sans CJK" in svg  # the font-family of the text elements
    assert inline_svg(svg.encode()).startswith("<svg")


def test_png_renders_and_is_stable() -> None:
    png = trend_chart(series("satisfaction_score", 80.0), "png", dpi=80)
    assert png.startswith(b"\x89PNG")
    assert trend_chart(series(), "svg") == trend_chart(series(), "svg")


def test_groups_chart_and_empty_series() -> None:
    rows = [
        GroupRow(
            i,
            name,
            50,
            0,
            {
                "awareness": MetricResult(
                    Estimate("awareness", 0.8 + i / 100, 0.02, 0.76, 0.86, n, too_few=n < 30)
                )
            },
        )
        for i, (name, n) in enumerate([("临江区", 300), ("云溪县", 12)])
    ]
    svg = groups_chart(GroupTable("district", rows), "awareness").decode("utf-8")
    assert "临江区" in svg and "云溪县（样本不足）" in svg
    empty = TrendSeries("awareness", "知晓率", [], None)
    assert "无有效答卷" in trend_chart(empty).decode("utf-8")
    with pytest.raises(ValueError):
        trend_chart(empty, "gif")


def test_page_svg_is_valid_and_shows_band_estimates_target_and_too_few() -> None:
    import xml.etree.ElementTree as ET

    from survey.reporting.charts.svg import nice_ticks
    from survey.reporting.charts.svg import trend_svg

    svg = trend_svg(series())
    root = ET.fromstring(svg)  # well-formed XML, inline-able
    assert root.tag.endswith("svg") and root.get("role") == "img"
    text = "".join(root.itertext())
    for words in ("知晓率（按周）", "95% 置信区间", "估计值", "样本不足（仅供参考）", "目标 90%"):
        assert words in text
    assert "11-02" in text and "11-16" in text
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polygon")) == 1  # the interval band
    assert len(root.findall(f"{ns}circle")) == 3  # two estimates, one hollow (too few)
    assert svg == trend_svg(series())  # stable
    score = trend_svg(series("satisfaction_score", 80.0))
    assert "得分（0–100）" in score and "目标 80" in score
    empty = trend_svg(TrendSeries("awareness", "知晓率", [], None))
    assert "无有效答卷" in empty
    ticks = nice_ticks(65.3, 76.6)
    assert ticks[0] <= 65.3 and ticks[-1] >= 76.6 and len(ticks) <= 6


def test_bar_charts_for_pages_are_light_svg_with_intervals() -> None:
    """The pages' bar chart: Chinese labels as SVG text, each interval drawn as a line from
    its low to its high end, 样本不足 in words instead of a bar; no matplotlib."""
    import re
    import xml.etree.ElementTree as ET

    from survey.reporting.charts.bars import LABEL_WIDTH
    from survey.reporting.charts.bars import PLOT
    from survey.reporting.charts.bars import Bar
    from survey.reporting.charts.bars import bars_svg

    good = Estimate("x", 0.40, 0.05, 0.30, 0.52, 120, method="logit", too_few=False)
    few = Estimate("x", 0.9, None, None, None, 4, too_few=True, reason="样本不足")
    svg = bars_svg("您对市容环境满意吗", [Bar("非常满意", good), Bar("说不清", few, True)], "注")
    root = ET.fromstring(svg)  # well-formed
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "非常满意" in texts and "您对市容环境满意吗" in texts
    assert "40.0%（30.0–52.0）" in texts
    assert "样本不足" in texts
    path = re.search(r'd="M([\d.]+),\d+H([\d.]+)', svg)
    assert path is not None
    low, high = float(path.group(1)), float(path.group(2))
    assert abs(low - (LABEL_WIDTH + 0.30 * PLOT)) < 0.1
    assert abs(high - (LABEL_WIDTH + 0.52 * PLOT)) < 0.1
    assert svg.count("<rect") == 1  # the too-few row has no bar
    assert "<image" not in svg and '<path d="M0' not in svg  # text stays text, no glyph paths
