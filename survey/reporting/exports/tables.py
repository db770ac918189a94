"""Report results as plain tables for export (XLSX sheets, CSV, JSON): Chinese headers, one
typed column per figure, every share next to its interval and n.

A table is data only: the writers (``survey.reporting.exports.xlsx``, the CSV writer, JSON) decide
how a column kind looks (``pct`` is a share in [0, 1] shown as a percentage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.filters import RATE_METRICS
from survey.reporting.questions.results import QuestionStat
from survey.reporting.results import ChannelRow
from survey.reporting.results import Dashboard
from survey.reporting.results import Estimate
from survey.reporting.results import GroupTable
from survey.reporting.results import MetricResult
from survey.reporting.results import TrendSeries

#: Column kinds: text, whole numbers, shares (percent), scores, other decimals, and ``auto``
#: (a share or a score by row: ``meta["row_kinds"]``).
KINDS: Final[tuple[str, ...]] = ("text", "int", "pct", "score", "float", "auto")


@dataclass(frozen=True)
class Column:
    """One column: a stable key (CSV/JSON), a Chinese title (sheets) and a kind."""

    key: str
    title: str
    kind: str = "text"


@dataclass(frozen=True)
class ExportTable:
    """A titled table: ``name`` is an ASCII slug for file names, ``title`` the sheet name."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        """Rows as dictionaries by column key (JSON)."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: name, title, note, columns and records."""
        return {
            "name": self.name,
            "title": self.title,
            "note": self.note,
            "columns": [{"key": c.key, "title": c.title, "kind": c.kind} for c in self.columns],
            "rows": self.records(),
        }


def _kind(metric: str) -> str:
    return "pct" if metric in RATE_METRICS else "score"


def estimate_columns(prefix: str, title: str, kind: str) -> list[Column]:
    """Columns of one estimate: value, interval, n, design effect, why it is not shown."""
    return [
        Column(f"{prefix}", title, kind),
        Column(f"{prefix}_low", f"{title}95%下限", kind),
        Column(f"{prefix}_high", f"{title}95%上限", kind),
        Column(f"{prefix}_n", f"{title}样本量", "int"),
        Column(f"{prefix}_deff", f"{title}设计效应", "float"),
        Column(f"{prefix}_note", f"{title}说明", "text"),
    ]


def estimate_cells(e: Estimate | None) -> list[Any]:
    """The cells of :func:`estimate_columns`: the estimate and its interval whenever they
    exist; too few responses (样本不足) and how the interval was formed in the note."""
    if e is None:
        return [None, None, None, 0, None, "无数据"]
    note = "；".join(t for t in (e.reason, getattr(e, "interval_note", "")) if t)
    return [e.estimate, e.ci_low, e.ci_high, e.n, e.deff, note]


def model_columns(metric: str) -> list[Column]:
    """Columns of a street's small-area model estimate (beside the direct one)."""
    title = f"{METRIC_NAMES[metric]}模型估计（小区域）"
    kind = _kind(metric)
    return [
        Column(f"{metric}_model", title, kind),
        Column(f"{metric}_model_low", f"{title}95%下限", kind),
        Column(f"{metric}_model_high", f"{title}95%上限", kind),
        Column(f"{metric}_model_note", f"{title}说明"),
    ]


def model_cells(m: Any) -> list[Any]:
    """The cells of :func:`model_columns` (``m``: a ``ModelEstimate`` or None)."""
    if m is None or m.estimate is None:
        return [None, None, None, m.reason if m is not None else "非街道"]
    note = "合成估计：本期无答卷，数值完全来自模型" if m.synthetic else ""
    return [m.estimate, m.ci_low, m.ci_high, note]


def headline_table(board: Dashboard, area: str) -> ExportTable:
    """The headline: one row per metric with interval, change and target."""
    columns = [
        Column("metric", "指标"),
        *estimate_columns("value", "估计值", "auto"),
        Column("change", "较上期变化", "auto"),
        Column("change_low", "变化95%下限", "auto"),
        Column("change_high", "变化95%上限", "auto"),
        Column("change_significant", "变化是否显著"),
        Column("target", "目标值", "auto"),
        Column("target_status", "目标状态"),
    ]
    rows = []
    for metric in METRICS:
        result = board.headline.metrics[metric]
        rows.append([METRIC_NAMES[metric], *estimate_cells(result.estimate), *_change(result)])
    note = f"{area}，{board.headline.responses} 份答卷；比率为 0–1 的比例，满意度得分为 0–100 分。"
    kinds = [_kind(m) for m in METRICS]
    return ExportTable("headline", "总体", columns, rows, note, {"row_kinds": kinds})


def _change(result: MetricResult) -> list[Any]:
    c = result.change
    t = result.target
    change = [None, None, None, "无上期可比"]
    if c is not None and c.difference is not None:
        change = [c.difference, c.ci_low, c.ci_high, "显著" if c.significant else "不显著"]
    elif c is not None:
        change[3] = c.reason or "无法比较"
    target = [t.threshold, t.label] if t is not None else [None, "未设目标"]
    return [*change, *target]


def group_export(table: GroupTable, name: str, title: str, label: str) -> ExportTable:
    """A table by region level, channel or week: every metric with its interval (by street,
    the small-area model estimate beside the direct one)."""
    model = table.model
    columns = [Column("label", label), Column("code", "编码"), Column("responses", "答卷", "int")]
    for metric in METRICS:
        columns += estimate_columns(metric, METRIC_NAMES[metric], _kind(metric))
        columns.append(Column(f"{metric}_target", f"{METRIC_NAMES[metric]}目标状态"))
        if model is not None:
            columns += model_columns(metric)
    rows = []
    for row in table.rows:
        cells: list[Any] = [row.label, row.code, row.responses]
        for metric in METRICS:
            result = row.metrics[metric]
            cells += estimate_cells(result.estimate)
            cells.append(result.target.label if result.target else "")
            if model is not None:
                cells += model_cells(model.estimates[metric].get(row.key))
        rows.append(cells)
    note = f"{model.note}{model.summary}" if model is not None else ""
    return ExportTable(name, title, columns, rows, note)


def channel_export(rows: Sequence[ChannelRow]) -> ExportTable:
    """Channels: scans, responses, completion and the three rates."""
    columns = [
        Column("label", "渠道"),
        Column("scans", "扫码", "int"),
        Column("responses", "答卷", "int"),
        Column("completion", "完成率", "pct"),
    ]
    for metric in METRICS:
        columns += estimate_columns(metric, METRIC_NAMES[metric], _kind(metric))
    out = []
    for row in rows:
        cells: list[Any] = [row.label, row.completion.scans, row.included, row.completion.rate]
        for metric in METRICS:
            cells += estimate_cells(row.metrics.get(metric))
        out.append(cells)
    return ExportTable("channel", "按渠道", columns, out)


def trend_export(series: dict[str, TrendSeries]) -> ExportTable:
    """The weekly trend: one row per week, every metric with its interval."""
    columns = [Column("week", "周（起始日）")]
    for metric in METRICS:
        columns += estimate_columns(metric, METRIC_NAMES[metric], _kind(metric))
    first = series[METRICS[0]].points
    rows = []
    for i, point in enumerate(first):
        cells: list[Any] = [point.week.isoformat()]
        for metric in METRICS:
            cells += estimate_cells(series[metric].points[i].estimate)
        rows.append(cells)
    return ExportTable("week", "每周趋势", columns, rows)


def question_export(q: QuestionStat, weighted: bool) -> ExportTable:
    """One question: count and share of every option with intervals (and weighted)."""
    columns = [Column("option", "选项"), Column("count", "人数", "int")]
    columns += estimate_columns("share", "比例", "pct")
    if weighted:
        columns += estimate_columns("weighted", "加权比例", "pct")
    rows = []
    for o in q.options:
        cells: list[Any] = [o.label, o.count, *estimate_cells(o.unweighted)]
        if weighted:
            cells += estimate_cells(o.weighted)
        rows.append(cells)
    note = f"{q.number}. {q.text}（{q.type_name}）看到本题 {q.seen} 人，作答 {q.answered} 人"
    if q.type == "multiple":
        note += "；多选题：比例以答题人数为基数，合计可超过 100%"
    if q.score is not None and q.score.estimate is not None:
        score = q.score_weighted or q.score
        note += f"；平均得分 {score.estimate:.1f}"
    return ExportTable(f"q{q.number:02d}_{q.key}", f"题{q.number}", columns, rows, note)
