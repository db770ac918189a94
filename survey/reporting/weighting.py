"""From aggregated rows to a survey design, weighted as the view asks.

Design: collection point = cluster, district = stratum, base weight 1. Calibration is per
period (each period's weights add up to the population). Responses that cannot be weighted
(no age group, sex or district, or a cell with no population count) are left out of a
weighted report, and how many is reported next to the figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis import AggregateOutcome
from analysis import AnalysisError
from analysis import SurveyDesign
from analysis import design_from_aggregates
from analysis import kish_n_eff
from analysis import poststratify
from analysis import rake
from analysis import weighting_report
from survey.reporting.filters import DEFAULT_MIN_CELL_N
from survey.reporting.filters import METRICS
from survey.reporting.filters import WEIGHTING_NAMES
from survey.reporting.margins import RAKING_MARGINS
from survey.reporting.margins import cells_by_period
from survey.reporting.margins import margin_key
from survey.reporting.margins import raking_margins
from survey.reporting.push import PSUS
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import CellMerge
from survey.reporting.results import WeightingInfo

OUTCOMES: dict[str, AggregateOutcome] = {
    m: AggregateOutcome(f"{m}_sum", f"{m}_sum2", f"{m}_n") for m in METRICS
}
SEX_NAMES: dict[str, str] = {"male": "男", "female": "女"}


@dataclass(frozen=True)
class WeightedDesign:
    """A design (None when no response is left) and how it was weighted."""

    design: SurveyDesign | None
    info: WeightingInfo


#: Weight of every response in an unweighted report. Any constant gives the same estimates
#: and standard errors; a large one makes the design effect relative to simple random
#: sampling with replacement (R's ``deff="replace"``): with weights of 1 the weight total
#: equals n and the default design effect, whose SRS variance has the factor (N - n) / N,
#: would be undefined. Here that factor is 1 - 1e-9.
UNWEIGHTED_WEIGHT = 1e9


def unweighted_design(frame: pd.DataFrame, weight: float = UNWEIGHTED_WEIGHT) -> SurveyDesign:
    """The stratified cluster design of aggregated rows, every response weighing ``weight``.
    A ``psus`` column (push rows, ``survey.reporting.push``) gives the number of identical
    PSUs each row stands for."""
    data = frame.assign(w=weight).reset_index(drop=True)
    return design_from_aggregates(
        data,
        psu="cluster",
        strata="stratum",
        weights="w",
        n="n",
        outcomes=OUTCOMES,
        psus=PSUS if PSUS in data.columns else None,
    )


def weightable(frame: pd.DataFrame, population: pd.DataFrame, method: str) -> pd.Series:
    """Rows whose cell (or every margin level) has a positive population count."""
    known = frame["age_group"].notna() & frame["sex"].notna() & (frame["stratum"] != 0)
    positive = population[population["N"] > 0]
    if method == "poststratify":
        return known & pd.Series(_in_cells(frame, positive), index=frame.index)
    for variable in RAKING_MARGINS:
        totals = positive.groupby(variable)["N"].sum()
        known &= frame[variable].isin(totals[totals > 0].index)
    return known


#: Columns of a post-stratification cell.
CELL_COLUMNS: tuple[str, ...] = ("stratum", "age_group", "sex")


def _in_cells(frame: pd.DataFrame, cells: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Whether each row's (stratum, age group, sex) is one of the rows of ``cells``.

    Each column is coded against the values present in ``cells`` (-1: absent) and the codes
    are combined into one integer per cell, so the test is a single ``isin`` on integers.
    """
    row_key = np.zeros(len(frame), dtype=np.int64)
    cell_key = np.zeros(len(cells), dtype=np.int64)
    absent = np.zeros(len(frame), dtype=bool)
    for column in CELL_COLUMNS:
        levels = pd.Index(pd.unique(cells[column]))
        row_code = levels.get_indexer(frame[column])
        absent |= row_code < 0
        row_key = row_key * len(levels) + row_code
        cell_key = cell_key * len(levels) + levels.get_indexer(cells[column])
    return np.asarray(~absent & np.isin(row_key, cell_key), dtype=bool)


def weighted_design(
    frame: pd.DataFrame,
    method: str,
    population: pd.DataFrame,
    regions: RegionIndex,
    *,
    info: bool = True,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> WeightedDesign:
    """Build the design of ``frame`` weighted by ``method`` ('none', 'poststratify', 'rake').

    When the population cannot support the weighting (no counts, raking that does not
    converge) the design stays unweighted and ``info.message`` says why. ``info=False``
    leaves out the cell report and merges (a design used for changes only). Post-
    stratification merges cells with fewer than ``min_cell_n`` respondents.
    """
    if frame.empty or int(frame["n"].sum()) == 0:
        return WeightedDesign(None, WeightingInfo.plain(method, message="无有效答卷"))
    if method == "none":
        design = unweighted_design(frame)
        return WeightedDesign(design, WeightingInfo.plain("none", kish=kish_n_eff(design)))
    keep = weightable(frame, population, method)
    dropped = int(frame.loc[~keep, "n"].sum())
    used = frame[keep]
    if method == "rake" and not used.empty:
        used = used.assign(
            **{
                f"m_{v}": [margin_key(p, x) for p, x in zip(used["period"], used[v], strict=True)]
                for v in RAKING_MARGINS
            }
        )
    if used.empty:
        return _fallback(frame, method, "没有可加权的答卷（缺少年龄、性别、区县或对应人口数）")
    try:
        design = _calibrate(unweighted_design(used, 1.0), method, population, min_cell_n)
    except AnalysisError as exc:
        return _fallback(frame, method, f"无法{WEIGHTING_NAMES[method]}：{exc}")
    result = WeightingInfo(
        requested=method,
        applied=method,
        kish_n_eff=kish_n_eff(design),
        dropped=dropped,
        collapsed=tuple(collapsed_cells(design, regions)) if info else (),
        cells=tuple(_cell_rows(design)) if info else (),
        message=f"{dropped} 份答卷缺少加权所需信息，未计入加权估计" if dropped else "",
        min_cell_n=min_cell_n,
    )
    return WeightedDesign(design, result)


def _calibrate(
    design: SurveyDesign, method: str, population: pd.DataFrame, min_cell_n: int
) -> SurveyDesign:
    """Post-stratify or rake, per period, to the population of the design's districts."""
    periods = sorted(int(p) for p in design.data["period"].unique())
    present = population[population["stratum"].isin(design.data["stratum"].unique())]
    if method == "poststratify":
        return poststratify(design, cells_by_period(present, periods), min_cell_n=min_cell_n)
    return rake(design, raking_margins(present, periods))


def _fallback(frame: pd.DataFrame, method: str, message: str) -> WeightedDesign:
    design = unweighted_design(frame)
    return WeightedDesign(
        design,
        WeightingInfo.plain(method, applied="none", kish=kish_n_eff(design), message=message),
    )


def collapsed_cells(design: SurveyDesign, regions: RegionIndex) -> list[str]:
    """One line per merged post-stratification cell, in Chinese."""
    report = weighting_report(design)
    if report.empty or "cell" not in report.columns:
        return []
    cell = report["cell"].to_numpy(dtype=np.int64)
    sizes = np.bincount(cell[cell >= 0])
    lines = []
    for merged in np.flatnonzero(sizes >= 2):  # most cells are not merged: skip them
        members = report[cell == merged]
        names = "、".join(_cell_name(row, regions) for row in members.itertuples(index=False))
        lines.append(f"合并：{names}（样本 {int(members['n'].sum())} 份）")
    return lines


#: A period's label and first and last day, by period code (1 = 本期, 0 = 上期).
PeriodNames = dict[int, tuple[str, tuple[dt.date | None, dt.date | None]]]


def cell_merges(
    design: SurveyDesign, regions: RegionIndex, periods: PeriodNames
) -> list[CellMerge]:
    """Every merged post-stratification cell of ``design``, per period, in Chinese."""
    report = weighting_report(design)
    if report.empty or "cell" not in report.columns:
        return []
    cell = report["cell"].to_numpy(dtype=np.int64)
    sizes = np.bincount(cell[cell >= 0])
    out = []
    for merged in np.flatnonzero(sizes >= 2):
        members = report[cell == merged]
        code = int(members["period"].iloc[0]) if "period" in members.columns else 1
        label, dates = periods.get(code, (f"第 {code} 期", (None, None)))
        names = tuple(_cell_name(row, regions) for row in members.itertuples(index=False))
        out.append(CellMerge.of(label, dates, names, int(members["n"].sum())))
    return sorted(out, key=lambda m: (m.period != "本期", m.text))


def weighting_advice(info: WeightingInfo, merges: list[CellMerge]) -> str:
    """The sentence saying which weighting was used and why; raking offered when
    post-stratification had to merge cells."""
    k = info.min_cell_n or DEFAULT_MIN_CELL_N
    if info.applied == "poststratify" and merges:
        periods = "、".join(dict.fromkeys(m.period for m in merges))
        return (
            f"使用事后分层加权（按所选）；{periods}有 {len(merges)} 组加权格因答卷少于 {k} 份"
            "与相邻格合并，合并会改变估计（清单见下）。迭代比例加权只按区县、年龄段、性别三个"
            "边际合计调整，不合并任何格，可改用它比较。"
        )
    if info.applied == "poststratify":
        return f"使用事后分层加权（按所选）；所用时期每个加权格都不少于 {k} 份答卷，未合并任何格。"
    if info.applied == "rake":
        return "使用迭代比例加权（按所选）：只按区县、年龄段、性别的边际合计调整，不合并任何格。"
    return ""


def _cell_name(row: Any, regions: RegionIndex) -> str:
    stratum = int(row.stratum)
    info = regions.by_id.get(stratum)
    place = info.name if info is not None else str(stratum)
    sex = str(row.sex)
    return f"{place} {row.age_group} {SEX_NAMES.get(sex, sex)}"


def _cell_rows(design: SurveyDesign) -> list[dict[str, object]]:
    """The calibration report as plain records (JSON-ready), read column by column (the
    same values as ``to_dict(orient="records")`` for about half its cost)."""
    report = weighting_report(design)
    names = [str(c) for c in report.columns]
    columns = [[_plain(v) for v in report[c].tolist()] for c in report.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return value
