"""Comparisons: change since the previous period, target status, ranks with intervals."""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import SurveyDesign
from analysis import rank_intervals
from analysis import svy_contrasts
from analysis import target_status
from survey.reporting.estimates import number
from survey.reporting.results import TARGET_LABELS
from survey.reporting.results import Change
from survey.reporting.results import Estimate
from survey.reporting.results import RankResult
from survey.reporting.results import TargetResult

CHANGE_FIELDS: tuple[str, ...] = (
    "n_1",
    "n_2",
    "estimate_1",
    "estimate_2",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "note",
)
CHANGE_REASONS: tuple[tuple[str, str], ...] = (
    ("not estimable: no responses for period=0", "上期无答卷，无法比较"),
    ("not estimable: no responses for period=1", "本期无答卷，无法比较"),
    ("not estimable: design df is 0", "点位太少，无法计算变化的误差范围"),
    ("not estimable: SE of the difference is 0", "点位太少，无法计算变化的误差范围"),
)


def changes_by(
    design: SurveyDesign, metrics: Sequence[str], by: str | None = None, *, level: float = 0.95
) -> dict[str, dict[Hashable, Change]]:
    """Change of every metric from period 0 (previous) to 1 (current), per ``by`` group,
    from one ``svy_contrasts`` pass.

    The design holds both periods (calibrated per period), so the covariance of the two
    estimates through shared collection points is part of the standard error.
    """
    periods = set(design.data["period"].unique().tolist())
    if periods != {0, 1}:
        reason = "上期无答卷，无法比较" if 1 in periods else "本期无答卷，无法比较"
        return {m: ({None: _no_change(m, reason)} if by is None else {}) for m in metrics}
    frames = svy_contrasts(design, list(metrics), "period", 0, 1, by, level=level)
    return {m: _changes_from_frame(m, frames[m], by) for m in metrics}


def changes(
    design: SurveyDesign, metric: str, by: str | None = None, *, level: float = 0.95
) -> dict[Hashable, Change]:
    """:func:`changes_by` of one metric."""
    return changes_by(design, [metric], by, level=level)[metric]


def _changes_from_frame(metric: str, frame: pd.DataFrame, by: str | None) -> dict[Hashable, Change]:
    keys = frame[by].tolist() if by is not None else [None]
    cols = {c: frame[c].tolist() for c in CHANGE_FIELDS}
    out: dict[Hashable, Change] = {}
    for i, key in enumerate(keys):
        low, high = number(cols["ci_low"][i]), number(cols["ci_high"][i])
        ok = low is not None and high is not None
        out[int(key) if isinstance(key, np.integer) else key] = Change(
            metric=metric,
            previous=number(cols["estimate_1"][i]),
            current=number(cols["estimate_2"][i]),
            n_previous=int(cols["n_1"][i]),
            n_current=int(cols["n_2"][i]),
            difference=number(cols["difference"][i]),
            se=number(cols["se"][i]),
            ci_low=low,
            ci_high=high,
            p_value=number(cols["p_value"][i]),
            significant=bool(ok and (low > 0 or high < 0)),  # type: ignore[operator]
            reason="" if ok else _change_reason(str(cols["note"][i])),
        )
    return out


def _change_reason(note: str) -> str:
    for prefix, text in CHANGE_REASONS:
        if note.startswith(prefix):
            return text
    return "无法估计变化"


def _no_change(metric: str, reason: str) -> Change:
    return Change(metric, None, None, 0, 0, None, None, None, None, None, False, reason)


def target_results(
    items: Sequence[tuple[Estimate, float]], *, min_n: int, level: float = 0.95
) -> list[TargetResult]:
    """Target status of each (estimate, threshold), direction >=, in one ``target_status``
    call.

    A group with too few responses is 待定 whatever its interval says, and needs at least the
    responses that bring it to ``min_n``.
    """
    if not items:
        return []
    frame = pd.DataFrame(
        {
            "estimate": [_nan(e.estimate) for e, _ in items],
            "se": [_nan(e.se) for e, _ in items],
            "ci_low": [_nan(e.ci_low) for e, _ in items],
            "ci_high": [_nan(e.ci_high) for e, _ in items],
            "n": [e.n for e, _ in items],
            "df": [_nan(e.df) for e, _ in items],
        }
    )
    thresholds = [float(t) for _, t in items]
    result = target_status(frame, thresholds, ">=", level=level)
    statuses = result["status"].tolist()
    more_needed = result["more_needed"].tolist()
    notes = result["status_note"].tolist()
    out = []
    for i, (est, threshold) in enumerate(items):
        status = str(statuses[i])
        more = None if pd.isna(more_needed[i]) else int(more_needed[i])
        note = str(notes[i] or "")
        if est.too_few:
            status = "undecided"
            more = max(min_n - est.n, more or 0, 1)
            note = est.reason
        out.append(
            TargetResult(
                metric=est.metric,
                threshold=threshold,
                status=status,
                label=TARGET_LABELS[status],
                more_needed=more,
                note=note,
            )
        )
    return out


def ranks_for(
    estimates: Mapping[Hashable, Estimate], *, level: float = 0.95
) -> dict[Hashable, RankResult]:
    """Ranks (1 = highest) with rank intervals over the groups that have a usable figure.

    The groups' estimates are taken as independent (``rank_intervals`` with their standard
    errors): exact for districts, which are separate strata, and close for streets, whose
    estimates share only their district's stratum and weighting cells.
    """
    usable = [
        k
        for k, e in estimates.items()
        if not e.too_few and e.estimate is not None and e.se is not None
    ]
    if not usable:
        return {}
    values = pd.Series([estimates[k].estimate for k in usable], dtype=np.float64)
    se = np.array([estimates[k].se for k in usable], dtype=np.float64)
    result = rank_intervals(values, se, level=level)
    columns = zip(
        result["rank"].tolist(),
        result["rank_low"].tolist(),
        result["rank_high"].tolist(),
        result["p_best"].tolist(),
        strict=True,
    )
    return {
        key: RankResult(
            rank=int(rank), rank_low=int(low), rank_high=int(high), of=len(usable), p_best=best
        )
        for key, (rank, low, high, best) in zip(usable, columns, strict=True)
    }


def _nan(value: float | int | None) -> float:
    return float("nan") if value is None else float(value)
