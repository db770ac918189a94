"""Report exports for staff and the command line, all for one filter within one scope:
the XLSX workbook (说明 sheet, headline, districts, streets, channels, weekly trend, every
question), CSV and JSON of each table, the weekly briefing (Word and the A4 print page).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from survey import reporting
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import Channel
from survey.models import Region
from survey.reporting import WEIGHTING_NAMES
from survey.reporting import ReportFilter
from survey.reporting.exports.briefing import EXCLUSION_REASONS
from survey.reporting.exports.briefing import Briefing
from survey.reporting.exports.briefing import build_briefing
from survey.reporting.exports.briefing import docx_bytes
from survey.reporting.exports.briefing import latest_week
from survey.reporting.exports.tables import ExportTable
from survey.reporting.exports.tables import channel_export
from survey.reporting.exports.tables import group_export
from survey.reporting.exports.tables import headline_table
from survey.reporting.exports.tables import question_export
from survey.reporting.exports.tables import trend_export
from survey.reporting.exports.xlsx import workbook_bytes
from survey.reporting.problem_list.ledger_pages import with_ledger
from survey.reporting.questions.pages import VersionFilter
from survey.reporting.questions.results import QuestionReport
from survey.reporting.questions.stats import question_stats
from survey.reporting.region_index import NOTHING
from survey.reporting.region_index import effective_path
from survey.reporting.results import Dashboard
from survey.reporting.results import WeightingInfo
from survey.services.csv_files import csv_bytes
from survey.timeutil import CST

#: Tables a ``--by`` (and a CSV download) can name, besides a question's table.
TABLE_NAMES: Final[dict[str, str]] = {
    "headline": "总体",
    "district": "按区县",
    "street": "按街道",
    "channel": "按渠道",
    "week": "每周趋势",
}

Progress = Callable[[str], None]

#: The fixed paragraphs of the 说明 sheet.
NOTE_TEXTS: Final[dict[str, str]] = {
    "interval": (
        "每个比例或得分都给出 95% 置信区间（下限、上限两列）：按同样方法反复调查，"
        "约 95% 的区间会包含真实值。区间按“点位为整群、区县为分层”的抽样设计计算，"
        "考虑了同一点位的答卷彼此相似，因此比简单按人数算的区间更宽、更可靠。"
        "区间越窄，估计越精确。"
    ),
    "weighting": (
        "不加权：每份答卷同等对待。事后分层加权：按区县×年龄段×性别的人口数调整权重，"
        "使样本结构与常住人口一致，纠正某些人群答得多、某些人群答得少的偏差。"
        "迭代比例加权：依次按区县、年龄段、性别的人口合计反复调整。"
        "缺年龄、性别或区县的答卷不参与加权估计。"
    ),
    "deff": (
        "设计效应（deff）= 本抽样设计下估计的方差 ÷ 同样本量简单随机抽样的方差。"
        "deff 为 2 表示 1000 份答卷的精度只相当于 500 份随机抽样；"
        "同一点位的答卷越相似，deff 越大。"
    ),
    "target": (
        "达标：置信区间整体高于目标值；未达标：置信区间整体低于目标值；"
        "待定：区间跨过目标值，现有答卷还不能下结论，页面给出约还需多少份答卷。"
    ),
    "questions": (
        "题目表中的比例以该题作答人数为基数（按跳题逻辑未看到、或未作答者不计入）；"
        "多选题各选项比例之和可超过 100%。选择加权方式时另给出加权比例。"
    ),
    "metrics": ("知晓率、参与率、满意率为 0–1 的比例（按百分比显示）；满意度得分为 0–100 分。"),
    "push": (
        "微信公众号、短信、手机报等推送渠道不是整群：同一推送链接被区县里互不相干的居民打开，"
        "因此这些渠道的每份答卷各自作为一个初级抽样单位（在所在区县分层内），"
        "张贴二维码的场所（公告栏、学校、市场等）仍按点位整群计算。"
    ),
}


@dataclass(frozen=True)
class ReportBundle:
    """What an export holds: the dashboard, the street table, the question statistics."""

    filter: ReportFilter
    area: str
    board: Dashboard
    tables: list[ExportTable]
    questions: QuestionReport | None


def area_name(flt: ReportFilter) -> str:
    """The report's area in words: 全市, or the chosen region or the officer's subtree."""
    path = effective_path(flt.region_path, flt.scope_path)
    if path is None:
        return "全市"
    if path == NOTHING:
        return "（无权限范围）"
    found = db.session.execute(db.select(Region).where(Region.path == path)).scalars().first()
    return found.name if found is not None else "所选区域"


def _quiet(_step: str) -> None:
    return None


def bundle(
    vf: VersionFilter, *, questions: bool = True, progress: Progress = _quiet
) -> ReportBundle:
    """Compute every table of the export for the version filter ``vf``."""
    flt = vf.filter.with_(level="district")
    area = area_name(flt)
    progress("三率总览与分区县")
    board = reporting.dashboard(db.session, flt)
    progress("分街道")
    streets = reporting.estimate_table(db.session, flt, "street")
    tables = [
        headline_table(board, area),
        group_export(board.table, "district", TABLE_NAMES["district"], "区县"),
        group_export(streets, "street", TABLE_NAMES["street"], "街道/镇"),
        channel_export(board.channels),
        trend_export(board.trend),
    ]
    report = None
    if questions:
        progress("题目统计")
        report = question_stats(db.session, vf.filter, vf.definition)
        tables += [question_export(q, report.weighted) for q in report.questions]
    return ReportBundle(flt, area, board, tables, report)


def table_by_name(b: ReportBundle, name: str) -> ExportTable:
    """One table of the bundle by name (``TABLE_NAMES`` or a question's ``qNN_key``)."""
    for table in b.tables:
        if table.name == name or table.name.split("_", 1)[-1] == name:
            return table
    raise InvalidInput(f"没有名为 {name} 的表（可选：{'、'.join(t.name for t in b.tables)}）。")


def notes(b: ReportBundle) -> list[tuple[str, str]]:
    """The 说明 sheet: what the figures mean and which responses were left out, in Chinese."""
    flt = b.filter
    head = b.board.headline
    info = b.board.weighting
    channel = db.session.get(Channel, flt.channel_id) if flt.channel_id else None
    start = flt.date_from.isoformat() if flt.date_from else "最早"
    end = flt.date_to.isoformat() if flt.date_to else "最新"
    excluded = (
        "存疑答卷已按要求计入估计（其中 {n} 份带有质量标记）。"
        if head.flagged_included
        else "已排除 {n} 份存疑答卷："
        + EXCLUSION_REASONS
        + "。这些答卷仍保存在系统中，可在原始数据导出的 excluded 列查到。"
    ).format(n=head.flagged)
    weighting = WEIGHTING_NAMES.get(info.applied, info.applied)
    if info.requested != info.applied:
        weighting += f"（所选“{WEIGHTING_NAMES.get(info.requested)}”未能实施：{info.message}）"
    elif info.message:
        weighting += f"（{info.message}）"
    scope = (
        f"{b.area}；{start} 至 {end}（按答卷所在周）；"
        f"渠道：{channel.name if channel else '全部'}；答卷来源：{flt.source_name}；"
        f"{head.responses} 份答卷计入估计；"
        f"导出时间 {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC。"
    )
    few = (
        f"答卷少于 {reporting.MIN_RESPONSES} 份的单元照常给出估计值和区间，并在说明列注明"
        "“样本不足”：读数时请看区间宽度。说明列注“区间按全市自由度计算”的，其所在组"
        "每个区县只有一个点位（自身自由度为 0），区间按全市抽样设计的自由度计算"
        "（与 R 的 svyby 置信区间一致）。"
    )
    return [
        ("范围", scope),
        ("置信区间", NOTE_TEXTS["interval"]),
        ("加权", f"本表：{weighting}。" + NOTE_TEXTS["weighting"]),
        ("加权格合并", merge_text(info)),
        ("推送渠道", NOTE_TEXTS["push"]),
        ("设计效应", NOTE_TEXTS["deff"]),
        ("目标状态", NOTE_TEXTS["target"]),
        ("排除的答卷", excluded),
        ("样本不足", few),
        ("题目统计", NOTE_TEXTS["questions"]),
        ("指标", NOTE_TEXTS["metrics"]),
        ("小区域估计", small_area_text(b)),
    ]


def merge_text(info: WeightingInfo) -> str:
    """The 说明 sheet's weighting-cell paragraph: the advice and every merge of every period."""
    if info.applied != "poststratify":
        return info.advice or "未使用事后分层加权，没有合并加权格。"
    lines = [info.advice] + [m.text for m in info.merges]
    return "\n".join(line for line in lines if line)


def small_area_text(b: ReportBundle) -> str:
    """What the street sheet's model columns are, and what each metric's model used."""
    street = next((t for t in b.tables if t.name == "street"), None)
    return street.note if street is not None and street.note else "本次导出没有街道模型估计。"


def xlsx(b: ReportBundle) -> bytes:
    """The workbook of the bundle."""
    return workbook_bytes(notes(b), b.tables)


def table_csv(table: ExportTable) -> bytes:
    """One table as CSV (Chinese headers, the table's note on no row: plain data)."""
    return csv_bytes([c.title for c in table.columns], table.rows)


def tables_json(b: ReportBundle) -> bytes:
    """Every table of the bundle as one JSON document."""
    body = {
        "area": b.area,
        "filter": reporting.results.plain(b.filter),
        "notes": [{"title": t, "text": x} for t, x in notes(b)],
        "tables": [t.to_dict() for t in b.tables],
    }
    return json.dumps(body, ensure_ascii=False, indent=1, default=str).encode("utf-8")


#: Weeks the briefing's trend charts show (ending with the briefing's period).
TREND_WEEKS: Final = 8


def briefing_filter(vf: VersionFilter, today: dt.date | None = None) -> VersionFilter:
    """The briefing's filter: the asked period, else the newest complete week with
    responses (the current week only when nothing came before it)."""
    flt = vf.filter
    if flt.date_from is not None or flt.date_to is not None:
        return vf
    week = latest_week(db.session, flt)
    if week is None:
        return vf
    today = today or dt.datetime.now(CST).date()
    if week >= today - dt.timedelta(days=today.weekday()):
        earlier = latest_week(db.session, flt.with_(date_to=week - dt.timedelta(days=1)))
        week = earlier or week
    return VersionFilter(
        flt.with_(date_from=week, date_to=week + dt.timedelta(days=6)), vf.version, vf.definition
    )


def briefing(vf: VersionFilter, *, charts: bool = True) -> Briefing:
    """The weekly briefing of the filter (see :func:`briefing_filter` for the period)."""
    vf = briefing_filter(vf)
    flt = vf.filter.with_(level="district")
    board = reporting.dashboard(db.session, flt)
    title = f"{vf.definition.title} 两率一度情况简报"
    trend = None
    if charts and flt.date_to is not None:
        start = flt.date_to - dt.timedelta(weeks=TREND_WEEKS) + dt.timedelta(days=1)
        if flt.date_from is None or start < flt.date_from:
            trend = reporting.trend(db.session, flt.with_(date_from=start))
    brief = build_briefing(board, flt, area_name(flt), title, charts=charts, trend=trend)
    return with_ledger(brief, flt)  # the ledger section (issue 27)


def briefing_docx(vf: VersionFilter) -> bytes:
    """The briefing as a Word document."""
    return docx_bytes(briefing(vf))
