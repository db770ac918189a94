"""The weekly briefing (汇报材料): headline figures with intervals, the district table, the
trend charts and one generated paragraph per metric, as a Word document (python-docx) and
as data for the print-ready A4 page.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from dataclasses import field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.shared import Pt
from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Response
from survey.reporting.charts.images import trend_chart
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.filters import RATE_METRICS
from survey.reporting.filters import WEIGHTING_NAMES
from survey.reporting.filters import ReportFilter
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import Dashboard
from survey.reporting.results import Estimate
from survey.reporting.results import MetricResult
from survey.reporting.results import TrendSeries
from survey.reporting.statement import base_conditions

#: Why flagged responses are left out, in words (the quality flags of the responses).
EXCLUSION_REASONS = "作答过快、雷同作答、计时缺失或同一点位集中涌入"


@dataclass(frozen=True)
class Briefing:
    """Everything the briefing shows, in Chinese, ready for either output."""

    title: str
    area: str
    period_text: str
    paragraphs: list[str]
    headline: list[list[str]]
    districts: list[list[str]]
    district_header: list[str]
    notes: list[str]
    charts: dict[str, bytes] = field(default_factory=dict)
    #: The ledger section (issue 27): open problems (区域, 问题, 责任单位, 整改时限, 状态) and
    #: done ones whose item moved significantly (区域, 问题, 责任单位, 整改效果); None: no
    #: ledger section.
    ledger_open: list[list[str]] = field(default_factory=list)
    ledger_moved: list[list[str]] = field(default_factory=list)
    ledger_total: int | None = None

    def chart_data_uri(self, metric: str) -> str:
        """A chart as a ``data:`` URI (the print page makes no other request)."""
        return "data:image/png;base64," + base64.b64encode(self.charts[metric]).decode("ascii")


def latest_week(bind: Session | Connection, flt: ReportFilter) -> dt.date | None:
    """Monday of the newest week with responses in the filter's area, up to its end date
    (None: none)."""
    conditions = base_conditions(flt.with_(date_from=None), RegionIndex.load(bind), False)
    found = bind.execute(select(func.max(Response.week_start)).where(*conditions)).scalar_one()
    if isinstance(found, str):  # SQLite returns the aggregate of a date column as text
        return dt.date.fromisoformat(found)
    return found  # type: ignore[no-any-return]


def period_words(flt: ReportFilter) -> tuple[str, str]:
    """("本周", "上周") for a one-week period, else ("本期", "上期")."""
    if flt.date_from and flt.date_to and (flt.date_to - flt.date_from).days == 6:
        return "本周", "上周"
    return "本期", "上期"


def value_text(metric: str, value: float | None) -> str:
    """A figure as written: a percentage with one decimal, or a score."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if metric in RATE_METRICS else f"{value:.1f} 分"


def _amount(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}" if metric in RATE_METRICS else f"{value:.1f}"


def metric_paragraph(metric: str, result: MetricResult, area: str, this: str, last: str) -> str:
    """The generated sentence of one metric: figure, interval, change, significance, target."""
    e: Estimate = result.estimate
    name = METRIC_NAMES[metric]
    if e.estimate is None:
        return f"{this}{area}{name}{e.reason or '无有效答卷'}。"
    if e.ci_low is None or e.ci_high is None:
        interval = f"无法计算置信区间，n={e.n}"
    else:
        interval = (
            f"95%置信区间 {value_text(metric, e.ci_low)}–{value_text(metric, e.ci_high)}，n={e.n}"
        )
    extra = "；".join(t for t in (e.interval_note, e.reason if e.too_few else "") if t)
    text = f"{this}{area}{name}为 {value_text(metric, e.estimate)}（{interval}）"
    if extra:
        text += f"（{extra}，读数时请看区间宽度）"
    c = result.change
    unit = "个百分点" if metric in RATE_METRICS else "分"
    if c is None or c.difference is None or c.ci_low is None or c.ci_high is None:
        text += f"，无{last}数据可比" if c is None else f"，{c.reason or f'无法与{last}比较'}"
    else:
        direction = "上升" if c.difference > 0 else "下降" if c.difference < 0 else "持平"
        text += (
            f"，较{last}{direction} {_amount(metric, abs(c.difference))} {unit}"
            f"（95%置信区间 {_amount(metric, c.ci_low)} 至 {_amount(metric, c.ci_high)} {unit}），"
            f"变化{'显著' if c.significant else '不显著'}"
        )
    t = result.target
    if t is not None:
        text += f"；目标值 {value_text(metric, t.threshold)}，{t.label}"
        if t.status == "undecided" and t.more_needed:
            text += f"（约还需 {t.more_needed} 份答卷才能判断）"
    return text + "。"


def _figure_cell(metric: str, e: Estimate) -> str:
    if e.estimate is None:
        return e.reason or "无有效答卷"
    if e.ci_low is None or e.ci_high is None:
        return f"{value_text(metric, e.estimate)}（{e.reason or '无区间'}）"
    text = (
        f"{value_text(metric, e.estimate)}"
        f"（{value_text(metric, e.ci_low)}–{value_text(metric, e.ci_high)}）"
    )
    extra = "；".join(t for t in (e.interval_note, "样本不足" if e.too_few else "") if t)
    return f"{text} {extra}" if extra else text


def build_briefing(
    board: Dashboard,
    flt: ReportFilter,
    area: str,
    title: str,
    *,
    charts: bool = True,
    trend: dict[str, TrendSeries] | None = None,
) -> Briefing:
    """The briefing of a dashboard computed for ``flt`` over ``area`` (e.g. 全市, 临江区);
    the charts show ``trend`` (e.g. the weeks before the period too), else the board's."""
    this, last = period_words(flt)
    start = flt.date_from.isoformat() if flt.date_from else "最早"
    end = flt.date_to.isoformat() if flt.date_to else "最新"
    paragraphs = [metric_paragraph(m, board.headline.metrics[m], area, this, last) for m in METRICS]
    headline = [_headline_row(m, board.headline.metrics[m]) for m in METRICS]
    header = ["区域", "答卷", *(METRIC_NAMES[m] for m in METRICS)]
    districts = [
        [
            row.label,
            str(row.responses),
            *(_figure_cell(m, row.metrics[m].estimate) for m in METRICS),
        ]
        for row in board.table.rows
    ]
    info = board.weighting
    notes = [
        f"统计口径：{start} 至 {end}（按答卷所在周），答卷来源：{flt.source_name}，"
        f"{board.headline.responses} 份答卷；"
        + (
            "存疑答卷已计入。"
            if board.headline.flagged_included
            else f"已排除 {board.headline.flagged} 份存疑答卷（{EXCLUSION_REASONS}）。"
        ),
        f"加权方式：{WEIGHTING_NAMES.get(info.applied, info.applied)}"
        + (f"（{info.message}）" if info.message else "")
        + "。括号内为 95% 置信区间；样本少于 30 份的单元只写“样本不足”。",
    ]
    series = trend or board.trend
    pngs = {m: trend_chart(series[m], "png", dpi=130) for m in METRICS} if charts else {}
    return Briefing(
        title=title,
        area=area,
        period_text=f"{start} 至 {end}",
        paragraphs=paragraphs,
        headline=headline,
        districts=districts,
        district_header=header,
        notes=notes,
        charts=pngs,
    )


def _headline_row(metric: str, r: MetricResult) -> list[str]:
    """Metric, estimate with interval, n, change since the last period, target status."""
    change = "—"
    if r.change is not None and r.change.difference is not None:
        unit = "个百分点" if metric in RATE_METRICS else "分"
        sign = "+" if r.change.difference >= 0 else "-"
        verdict = "显著" if r.change.significant else "不显著"
        change = f"{sign}{_amount(metric, abs(r.change.difference))} {unit}（{verdict}）"
    return [
        METRIC_NAMES[metric],
        _figure_cell(metric, r.estimate),
        str(r.estimate.n),
        change,
        r.target.label if r.target else "未设目标",
    ]


def _table(document: object, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].font.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


#: Headers of the briefing's ledger tables.
LEDGER_OPEN_HEADER = ["区域", "问题", "责任单位", "整改时限", "状态"]
LEDGER_MOVED_HEADER = ["区域", "问题", "责任单位", "整改效果"]


def _ledger_section(document: object, briefing: Briefing) -> None:
    add = document.add_heading  # type: ignore[attr-defined]
    add("四、问题整改", level=2)
    para = document.add_paragraph  # type: ignore[attr-defined]
    para(
        f"整改台账共 {briefing.ledger_total} 个问题，其中未完成 {len(briefing.ledger_open)} 个；"
        f"已整改且满意率前后变化显著的 {len(briefing.ledger_moved)} 个。"
    )
    if briefing.ledger_open:
        para("未完成的问题：")
        _table(document, LEDGER_OPEN_HEADER, briefing.ledger_open)
    if briefing.ledger_moved:
        para("整改后满意率变化显著的问题：")
        _table(document, LEDGER_MOVED_HEADER, briefing.ledger_moved)


def docx_bytes(briefing: Briefing) -> bytes:
    """The briefing as a Word document: title, paragraphs, tables, charts, notes."""
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()  # type: ignore[attr-defined]
    fonts.set(qn("w:eastAsia"), "宋体")  # Chinese text in a Chinese font
    heading = document.add_heading(briefing.title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"{briefing.area} · {briefing.period_text}")
    document.add_heading("一、主要指标", level=2)
    for text in briefing.paragraphs:
        document.add_paragraph(text)
    _table(
        document,
        ["指标", "估计值（95%置信区间）", "样本量", "较上期变化", "目标状态"],
        briefing.headline,
    )
    document.add_heading("二、分区县情况", level=2)
    _table(document, briefing.district_header, briefing.districts)
    if briefing.charts:
        document.add_heading("三、每周趋势", level=2)
        for metric, png in briefing.charts.items():
            document.add_picture(io.BytesIO(png), width=Cm(15))
            document.add_paragraph(f"图：{METRIC_NAMES[metric]}每周走势（阴影为 95% 置信区间）")
    if briefing.ledger_total is not None:
        _ledger_section(document, briefing)
    document.add_heading("说明", level=2)
    for note in briefing.notes:
        document.add_paragraph(note)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
