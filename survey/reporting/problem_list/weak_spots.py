"""Weak spots (薄弱环节): satisfaction items x streets significantly below the city figure.

For every satisfaction item of the questionnaire (the scale questions with ``metric =
"satisfaction"``) and every street (or community), the item's satisfied share (top-two box
among substantive answers, as the questionnaire scores it) is compared with the same share
for the whole city. The figures come from the question statements of
:mod:`survey.reporting.questions.frame` (answer counts per design cell, pushed into SQL), the
design is the dashboard's (collection point = cluster, district = stratum, weighting as the
filter asks), and the gap with its interval is :func:`analysis.svy_gaps` (the covariance of
a street with the city it belongs to is included).

A weak spot is a gap below the city figure that stays significant after the
Benjamini-Hochberg correction at :data:`FDR_LEVEL` across every tested street x item of the
city (one-sided tests, H0: the street is not below the city). Streets with fewer than
``min_n`` answers to an item are not tested: they show 样本不足, or the small-area estimate
when one is supplied (marked as such, never in the test family). Groups of responses
collected above the street level (district-wide WeChat articles) count in the city figure
but are not streets and are not tested.

The city figure is always the whole city's, also for an officer who sees one district: the
officer sees the gaps of their own streets, computed and corrected as for everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AggregateOutcome
from analysis import benjamini_hochberg
from analysis import svy_gaps
from questionnaires import Definition
from questionnaires import Question
from survey.models import PopulationCount
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import ReportFilter
from survey.reporting.planner import report_planner
from survey.reporting.questions.frame import QuestionFrame
from survey.reporting.questions.frame import answered_column
from survey.reporting.questions.frame import load_question_frame
from survey.reporting.questions.frame import nonsubstantive_column
from survey.reporting.questions.frame import option_column
from survey.reporting.questions.stats import build_designs
from survey.reporting.questions.stats import estimates_many
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import Estimate
from survey.reporting.results import WeightingInfo
from survey.reporting.results import _ToDict

#: False-discovery rate of the weak-spot search (Benjamini-Hochberg): among the weak spots
#: listed, at most this share is expected to be a street that is not really below the city.
FDR_LEVEL = 0.10
#: Orders of the rows (weak spots always first): by gap (largest first), or by the
#: residents the gap concerns.
SORTS: tuple[str, ...] = ("gap", "residents")
#: Area levels a weak-spot table can use.
AREA_LEVELS: tuple[str, ...] = ("street", "community")


@dataclass(frozen=True)
class SmallAreaFigure:
    """A model-based estimate for a thin area (from issue 24's Fay-Herriot estimate)."""

    estimate: float
    ci_low: float
    ci_high: float
    method: str = "小区域估计"


#: A source of small-area estimates: (table of every (area, item) with ``area``, ``item``,
#: ``n``, ``estimate``, ``overall``, ``tested``; the region index) -> {(area key, item key):
#: figure}. ``item_small_area.item_small_area`` (issue 24's Fay-Herriot model) is the one used.
SmallAreaSource = Callable[[pd.DataFrame, RegionIndex], Mapping[tuple[int, str], SmallAreaFigure]]


@dataclass(frozen=True)
class WeakSpot(_ToDict):
    """One street x item: its share, the gap to the city and whether it is a weak spot.

    ``source`` is ``direct`` (design-based, tested), ``small_area`` (thin area shown with
    the model-based estimate, not tested) or ``too_few`` (thin area, no figure: ``reason``).
    ``residents`` is the area's adult population when stored, else its answers
    (``residents_basis`` says which); ``excess`` the residents the gap concerns
    (``-gap x residents``, 0 when the area is not below the city).
    """

    area_key: int
    area: str
    area_code: str
    district: str
    item: str
    item_text: str
    n: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    city: float | None
    gap: float | None
    gap_low: float | None
    gap_high: float | None
    p_value: float | None
    q_value: float | None
    weak: bool
    source: str
    reason: str = ""
    residents: int = 0
    residents_basis: str = "答卷数"
    excess: float = 0.0


@dataclass(frozen=True)
class WeakSpotReport(_ToDict):
    """Every street x item with its gap, the weak spots first."""

    level: str
    fdr_level: float
    min_n: int
    rows: list[WeakSpot]
    city: dict[str, Estimate]
    items: dict[str, str]
    weighting: WeightingInfo
    tested: int
    found: int
    responses: int
    small_area_available: bool
    notes: list[str] = field(default_factory=list)

    @property
    def weak(self) -> list[WeakSpot]:
        """The weak spots, ranked (largest gap first)."""
        return [r for r in self.rows if r.weak]


def satisfaction_items(defn: Definition) -> tuple[Question, ...]:
    """The satisfaction items: choice questions scored into the satisfaction metric."""
    return tuple(
        q for q in defn.questions if q.metric == "satisfaction" and q.positive and q.options
    )


def item_label(text: str) -> str:
    """A satisfaction question as a short label: 您对公共环境卫生是否满意？ -> 公共环境卫生."""
    label = text.strip()
    for prefix in ("您对", "你对"):
        label = label.removeprefix(prefix)
    for suffix in ("是否满意？", "是否满意?", "是否满意", "？", "?"):
        label = label.removesuffix(suffix)
    return label or text


def positive_column(question: str) -> str:
    """Frame column with the count of respondents whose answer to ``question`` is positive."""
    return f"pos|{question}"


def substantive_column(question: str) -> str:
    """Frame column with the count of substantive answers to ``question``."""
    return f"sub|{question}"


def item_frame(data: QuestionFrame, items: Sequence[Question]) -> QuestionFrame:
    """The question frame with each item's positive and substantive counts, as outcomes."""
    frame = data.frame
    columns: dict[str, np.ndarray] = {}
    outcomes: dict[str, AggregateOutcome] = {}
    for q in items:
        positive = [option_column(q.key, v) for v in q.positive]
        pos, sub = positive_column(q.key), substantive_column(q.key)
        columns[pos] = frame[positive].sum(axis=1).to_numpy(np.float64)
        answered = frame[answered_column(q.key)].to_numpy(np.float64)
        columns[sub] = answered - frame[nonsubstantive_column(q.key)].to_numpy(np.float64)
        outcomes[pos] = AggregateOutcome(pos, pos, sub)
    added = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
    return replace(data, frame=added, outcomes={**data.outcomes, **outcomes})


def area_keys(frame: pd.DataFrame, regions: RegionIndex, level: str) -> pd.Series:
    """The area (street or community) key of each design row (negative: above the level)."""
    ids = frame["region_id"].astype("int64")
    lookup = {int(r): regions.group_of(int(r), level) for r in ids.unique()}
    return ids.map(lookup).astype("int64")


def weak_spots(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    *,
    level: str = "street",
    min_n: int = MIN_RESPONSES,
    fdr_level: float = FDR_LEVEL,
    small_area: SmallAreaSource | None = None,
    sort: str = "gap",
) -> WeakSpotReport:
    """Gaps of every area x satisfaction item to the city, weak spots marked and ranked.

    ``flt`` gives the period, version, channel and weighting; its region and scope only
    decide which areas are listed (the city figure and the correction cover the city).
    ``sort``: ``gap`` (largest gap first) or ``residents`` (most residents concerned first),
    weak spots always before the rest.
    """
    items = satisfaction_items(defn)
    city_flt = flt.with_(region_path=None, scope_path=None)
    with report_planner(bind):
        regions = RegionIndex.load(bind)
        data = load_question_frame(bind, city_flt, defn, regions, questions=items)
    data = item_frame(data, items)
    data.frame["area"] = area_keys(data.frame, regions, level) if len(data.frame) else []
    designs = build_designs(bind, data, city_flt, regions)
    design = designs.applied
    outcomes = [positive_column(q.key) for q in items]
    responses = int(data.frame["n"].sum()) if len(data.frame) else 0
    empty = WeakSpotReport(level, fdr_level, min_n, [], {}, {}, designs.info, 0, 0, 0, False)
    if design is None or not items:
        return replace(empty, weighting=designs.info, responses=responses)
    methods = dict.fromkeys(outcomes, "logit")  # a 0/1 indicator per respondent
    city = estimates_many(design, methods, None, min_n=min_n, level=0.95)
    by_area = estimates_many(design, methods, "area", min_n=min_n, level=0.95)
    gaps = svy_gaps(design, outcomes, "area")
    table = _table(gaps, items, min_n)
    extra = small_area(table, regions) if small_area is not None else {}
    keys = zip(table["area"].astype(int), table["item"], strict=True)
    table["small_area"] = [extra.get(k) for k in keys]
    table = _correct(table, fdr_level)
    table = _residents(bind, table)
    labels = {q.key: item_label(q.text) for q in items}
    context = _Context(regions, labels, by_area, min_n, sort if sort in SORTS else "gap")
    rows = _rows(table, context, flt)
    return WeakSpotReport(
        level=level,
        fdr_level=fdr_level,
        min_n=min_n,
        rows=rows,
        city={q.key: city[positive_column(q.key)][None] for q in items},
        items={q.key: item_label(q.text) for q in items},
        weighting=designs.info,
        tested=int(table["tested"].sum()),
        found=int(table["weak"].sum()),
        responses=responses,
        small_area_available=small_area is not None,
        notes=_notes(small_area is not None, fdr_level, min_n),
    )


@dataclass(frozen=True)
class _Context:
    """What turning table rows into :class:`WeakSpot` needs."""

    regions: RegionIndex
    texts: Mapping[str, str]
    by_area: Mapping[str, Mapping[Any, Estimate]]
    min_n: int
    sort: str = "gap"


def _table(
    gaps: Mapping[str, pd.DataFrame],
    items: Sequence[Question],
    min_n: int,
) -> pd.DataFrame:
    """One frame of every (area, item) with its gap and whether it is tested."""
    parts = []
    for q in items:
        frame = gaps[positive_column(q.key)].copy()
        frame["item"] = q.key
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table = table[table["area"] > 0].reset_index(drop=True)
    table["tested"] = (table["n"] >= min_n) & table["p_value"].notna()
    return table


def _correct(table: pd.DataFrame, fdr_level: float) -> pd.DataFrame:
    """Benjamini-Hochberg over the tested (area, item) pairs; weak = rejected and below."""
    p = np.where(table["tested"], table["p_value"], np.nan)
    rejected, adjusted = benjamini_hochberg(p, fdr_level) if len(p) else ([], [])
    table["q_value"] = adjusted
    table["weak"] = np.asarray(rejected, dtype=bool) & (table["gap"] < 0).to_numpy()
    return table


def _residents(bind: Session | Connection, table: pd.DataFrame) -> pd.DataFrame:
    """Adult population of each area where stored (any level), else its answers."""
    areas = sorted({int(a) for a in table["area"]})
    stored: dict[int, int] = {}
    if areas:
        rows = bind.execute(
            select(PopulationCount.region_id, PopulationCount.count).where(
                PopulationCount.region_id.in_(areas)
            )
        ).all()
        for region_id, count in rows:
            stored[int(region_id)] = stored.get(int(region_id), 0) + int(count)
    pairs = zip(table["area"].tolist(), table["n"].tolist(), strict=True)
    table["residents"] = [stored.get(int(a), int(n)) for a, n in pairs]
    table["residents_basis"] = ["常住人口" if int(a) in stored else "答卷数" for a in table["area"]]
    gap = table["gap"].fillna(0.0).to_numpy()
    table["excess"] = np.where(gap < 0, -gap * table["residents"].to_numpy(), 0.0)
    return table


def _number(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if np.isfinite(out) else None


def _rows(table: pd.DataFrame, context: _Context, flt: ReportFilter) -> list[WeakSpot]:
    """Rows in the filter's region and scope: weak spots by gap, then the rest by gap."""
    shown = _visible(table, context.regions, flt)
    out = [_row(rec, context) for rec in table[shown].itertuples(index=False)]
    if context.sort == "residents":
        return sorted(out, key=lambda r: (not r.weak, -r.excess, r.gap or 0.0))
    return sorted(out, key=lambda r: (not r.weak, r.gap if r.gap is not None else 9.0))


def _visible(table: pd.DataFrame, regions: RegionIndex, flt: ReportFilter) -> np.ndarray:
    prefixes = [p for p in (flt.region_path, flt.scope_path) if p]
    paths = [regions.by_id[int(a)].path if int(a) in regions.by_id else "" for a in table["area"]]
    return np.array([all(p.startswith(x) for x in prefixes) for p in paths], dtype=bool)


def _row(rec: Any, context: _Context) -> WeakSpot:
    regions = context.regions
    key = int(rec.area)
    info = regions.by_id.get(key)
    district_id = regions.ancestor_at(key, "district")
    district = regions.by_id[district_id].name if district_id in regions.by_id else ""
    common: dict[str, Any] = {
        "area_key": key,
        "area": info.name if info else str(key),
        "area_code": info.code if info else "",
        "district": district,
        "item": str(rec.item),
        "item_text": context.texts.get(str(rec.item), str(rec.item)),
        "n": int(rec.n),
        "city": _number(rec.overall),
        "residents": int(rec.residents),
        "residents_basis": str(rec.residents_basis),
    }
    if rec.tested:
        own = context.by_area[positive_column(str(rec.item))].get(key)
        return WeakSpot(
            **common,
            estimate=_number(rec.estimate),
            ci_low=own.ci_low if own is not None else None,
            ci_high=own.ci_high if own is not None else None,
            gap=_number(rec.gap),
            gap_low=_number(rec.ci_low),
            gap_high=_number(rec.ci_high),
            p_value=_number(rec.p_value),
            q_value=_number(rec.q_value),
            weak=bool(rec.weak),
            source="direct",
            excess=float(rec.excess),
        )
    return _thin_row(rec, common, context.min_n)


def _thin_row(rec: Any, common: dict[str, Any], min_n: int) -> WeakSpot:
    n = int(rec.n)
    figure: SmallAreaFigure | None = rec.small_area
    if n == 0:
        reason = "无有效答卷"
    elif n < min_n:
        reason = f"样本不足（n={n}，至少需要 {min_n} 份）"
    else:  # enough answers, but one collection point: no design-based interval
        reason = f"点位太少（仅一个点位），无法计算误差范围（n={n}）"
    if figure is None:
        return WeakSpot(
            **common,
            estimate=None,
            ci_low=None,
            ci_high=None,
            gap=None,
            gap_low=None,
            gap_high=None,
            p_value=None,
            q_value=None,
            weak=False,
            source="too_few",
            reason=reason,
        )
    city = common["city"] or 0.0
    return WeakSpot(
        **common,
        estimate=figure.estimate,
        ci_low=figure.ci_low,
        ci_high=figure.ci_high,
        gap=figure.estimate - city,
        gap_low=None,
        gap_high=None,
        p_value=None,
        q_value=None,
        weak=False,
        source="small_area",
        reason=f"{figure.method}（直接样本 n={n}，不参与显著性检验）",
    )


def _notes(has_small_area: bool, fdr_level: float, min_n: int) -> list[str]:
    notes = [
        f"薄弱环节：比全市低、且经 Benjamini–Hochberg 多重比较校正（错误发现率 {fdr_level:.0%}，"
        "单侧检验）后仍显著的街道 × 题目。",
        f"某题有效回答少于 {min_n} 份的区域不做检验。",
        "全市数值为全市所有答卷（含区县级点位）；区县以上点位的答卷计入全市，不单列。",
    ]
    if has_small_area:
        notes.append(
            "样本不足的区域显示小区域估计（Fay–Herriot 模型，区县效应为协变量，标注“小区域估计”），"
            "不参与显著性检验。"
        )
    else:
        notes.append("未使用小区域估计：样本不足的区域显示“样本不足”。")
    return notes
