"""Did it get better? A problem's item in its area, before against after the deadline.

For a problem of the ledger with a satisfaction item, the responses in the problem's area
(the region's subtree) during :data:`WINDOW_WEEKS` weeks before the deadline and the same
number of weeks from the deadline on (by the response's week, its Monday) are compared with
:func:`analysis.svy_contrast`: the item's satisfied share after minus before, its interval
and two-sided p-value. The design is the dashboard's (collection point = cluster, district =
stratum), unweighted (calibrating each half separately would change the population between
the two figures only through who answered). The figures come from the same question
statements as the weak spots (counts per design cell and week, pushed into SQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import replace

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from analysis import svy_contrast
from analysis import svy_estimate
from questionnaires import Definition
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import ReportFilter
from survey.reporting.planner import report_planner
from survey.reporting.problem_list.weak_spots import item_frame
from survey.reporting.problem_list.weak_spots import positive_column
from survey.reporting.questions.frame import load_question_frame
from survey.reporting.questions.stats import build_designs
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import _ToDict

#: Weeks compared on each side of the deadline.
WINDOW_WEEKS = 8
#: Significance level of "moved" (the interval shown is the matching 95% one).
ALPHA = 0.05


@dataclass(frozen=True)
class Effect(_ToDict):
    """The item's satisfied share before and after the deadline, and the difference."""

    item: str
    before_from: dt.date
    after_to: dt.date
    deadline: dt.date
    n_before: int
    n_after: int
    before: float | None
    after: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool
    verdict: str
    reason: str = ""
    before_ci: tuple[float | None, float | None] = (None, None)
    after_ci: tuple[float | None, float | None] = (None, None)


def _number(value: object) -> float | None:
    if value is None:
        return None
    out = float(value)  # type: ignore[arg-type]
    return out if np.isfinite(out) else None


def effect_window(deadline: dt.date, weeks: int = WINDOW_WEEKS) -> tuple[dt.date, dt.date]:
    """First day of the before-window and last day of the after-window."""
    return deadline - dt.timedelta(weeks=weeks), deadline + dt.timedelta(weeks=weeks, days=-1)


def before_after(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    item: str,
    region_path: str,
    deadline: dt.date,
    *,
    weeks: int = WINDOW_WEEKS,
    min_n: int = MIN_RESPONSES,
) -> Effect:
    """The before/after contrast of ``item`` in the subtree ``region_path``.

    ``flt`` gives the questionnaire (and the flagged-responses rule); its period, region,
    channel and weighting are replaced (the window, the area, every channel, unweighted).
    """
    start, end = effect_window(deadline, weeks)
    question = defn.question(item) if item in defn else None
    base = Effect(item, start, end, deadline, 0, 0, None, None, None, None, None, None, False, "")
    if question is None or not question.positive:
        return _replace(base, verdict="无法比较", reason="该问题不是满意度题目")
    window = flt.with_(
        date_from=start,
        date_to=end,
        date_basis="week",
        region_path=region_path,
        scope_path=None,
        channel_id=None,
        weighting="none",
        version_id=None,
    )
    with report_planner(bind):
        regions = RegionIndex.load(bind)
        data = load_question_frame(bind, window, defn, regions, by="week", questions=[question])
    data = item_frame(data, [question])
    frame = data.frame
    if frame.empty:
        return _replace(base, verdict="无法比较", reason="整改时限前后均无答卷")
    weeks_of = frame["by"].map(_as_date)
    frame["period"] = np.where(weeks_of >= deadline, 2, 1).astype(np.int64)
    design = build_designs(bind, data, window, regions).applied
    if design is None:
        return _replace(base, verdict="无法比较", reason="整改时限前后均无答卷")
    outcome = positive_column(item)
    row = svy_contrast(design, outcome, "period", 1, 2).iloc[0]
    sides = svy_estimate(design, outcome, "period", method="logit").set_index("period")
    intervals = {
        f"{name}_ci": (_number(sides.loc[p, "ci_low"]), _number(sides.loc[p, "ci_high"]))
        for name, p in (("before", 1), ("after", 2))
        if p in sides.index
    }
    return _replace(_effect(base, row, min_n), **intervals)


def _as_date(value: object) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    assert isinstance(value, dt.date)
    return value


def _replace(base: Effect, **changes: object) -> Effect:
    return replace(base, **changes)  # type: ignore[arg-type]


def _effect(base: Effect, row: object, min_n: int) -> Effect:
    n_before, n_after = int(row.n_1), int(row.n_2)  # type: ignore[attr-defined]
    figures = {
        "n_before": n_before,
        "n_after": n_after,
        "before": _number(row.estimate_1),  # type: ignore[attr-defined]
        "after": _number(row.estimate_2),  # type: ignore[attr-defined]
    }
    if n_before < min_n or n_after < min_n:
        side = "整改时限前" if n_before < min_n else "整改时限后"
        reason = f"{side}答卷不足（前 n={n_before}，后 n={n_after}，每段至少需要 {min_n} 份）"
        return _replace(base, **figures, verdict="样本不足", reason=reason)
    p = _number(row.p_value)  # type: ignore[attr-defined]
    diff = _number(row.difference)  # type: ignore[attr-defined]
    if p is None or diff is None:
        note = str(row.note)  # type: ignore[attr-defined]
        return _replace(base, **figures, verdict="无法比较", reason=note or "无法估计")
    significant = p < ALPHA
    verdict = ("明显改善" if diff > 0 else "明显下降") if significant else "变化不显著"
    return _replace(
        base,
        **figures,
        difference=diff,
        ci_low=_number(row.ci_low),  # type: ignore[attr-defined]
        ci_high=_number(row.ci_high),  # type: ignore[attr-defined]
        p_value=p,
        significant=significant,
        verdict=verdict,
    )
