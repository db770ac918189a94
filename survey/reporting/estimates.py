"""Estimates per group from a design (``svy_estimate``), with the 样本不足 rule in words.

Rates (awareness, participation, satisfaction share) are proportions in [0, 1]: with a 0/1
value per response ``analysis`` gives the logit interval; where a response's value is the share
of its items answered positively (the bundled questionnaire asks several items per metric) it
is a mean of values in [0, 1] and the interval is the t interval, clipped to [0, 1]. The
satisfaction score (0-100) always gets the t interval.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis import RESULT_COLUMNS
from analysis import SurveyDesign
from analysis import mean_ci
from analysis import svy_estimates
from survey.reporting.filters import RATE_METRICS
from survey.reporting.results import Estimate

# Notes of ``analysis`` (prefixes) and what they mean for a reader of the dashboard.
NOTE_REASONS: tuple[tuple[str, str], ...] = (
    ("not estimable: no non-missing", "无有效答卷"),
    ("not estimable: design df is 0", "点位太少（每个区县仅一个点位），无法计算误差范围"),
    ("not estimable: SE is 0", "点位太少，无法计算误差范围"),
    ("not estimable: no stratum", "点位太少，无法计算误差范围"),
    ("no responses", "无有效答卷"),
    ("one response", "仅一份答卷，无法计算误差范围"),
)


#: Beside a figure whose interval uses the whole design's degrees of freedom (its group lies
#: in one collection point per district, so its own df is 0; as R's confint on svyby).
DESIGN_DF_NOTE = "区间按全市自由度计算"
#: The English note of ``analysis`` for that case (``zero_df="design"``).
_DESIGN_DF_MARK = "whole design's df"


def interval_note(note: str) -> str:
    """The Chinese remark on how an interval was formed, from ``analysis``'s note."""
    return DESIGN_DF_NOTE if _DESIGN_DF_MARK in note else ""


def number(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def reason_for(n: int, interval_ok: bool, note: str, min_n: int) -> str:
    """Chinese reason why a figure must not be shown bare, or ""."""
    if n == 0:
        return "无有效答卷"
    if n < min_n:
        return f"样本不足（n={n}，至少需要 {min_n} 份）"
    if not interval_ok:
        for prefix, text in NOTE_REASONS:
            if note.startswith(prefix):
                return f"{text}（n={n}）"
        return f"无法估计（n={n}）"
    return ""


def estimate_from_row(metric: str, row: Any, method: str, min_n: int) -> Estimate:
    """An :class:`Estimate` from one row of an ``analysis`` result (any object with its
    columns as attributes)."""
    return _estimate(metric, method, min_n, **{c: getattr(row, c, None) for c in RESULT_FIELDS})


#: Columns of an ``analysis`` result an :class:`Estimate` is made of (all of them).
RESULT_FIELDS: tuple[str, ...] = RESULT_COLUMNS


def _estimate(metric: str, method: str, min_n: int, **row: Any) -> Estimate:
    n = int(row["n"])
    low, high = number(row["ci_low"]), number(row["ci_high"])
    if metric in RATE_METRICS and method != "logit":
        low = None if low is None else max(low, 0.0)
        high = None if high is None else min(high, 1.0)
    note = str(row.get("note") or "")
    reason = reason_for(n, low is not None and high is not None, note, min_n)
    df = number(row.get("df"))
    return Estimate(
        metric=metric,
        estimate=number(row["estimate"]),
        se=number(row["se"]),
        ci_low=low,
        ci_high=high,
        n=n,
        n_missing=int(row.get("n_missing") or 0),
        deff=number(row.get("deff")),
        n_eff=number(row.get("n_eff")),
        df=None if df is None else int(df),
        method=method,
        too_few=bool(reason),
        reason=reason,
        note=note,
        interval_note=interval_note(note),
    )


def estimates_from_frame(
    metric: str, frame: pd.DataFrame, key: str | None, method: str, min_n: int
) -> dict[Hashable, Estimate]:
    """One :class:`Estimate` per row of an ``analysis`` result, by the row's ``key`` value
    (None: the frame's single row)."""
    keys = frame[key].tolist() if key is not None else [None]
    found = estimates_from_columns(metric, frame, method, min_n)
    return {plain_key(k): e for k, e in zip(keys, found, strict=True)}


def estimates_from_columns(
    metric: str, frame: pd.DataFrame, method: str, min_n: int, rows: slice | None = None
) -> list[Estimate]:
    """:func:`estimate_from_row` of every row of ``frame`` (or of ``rows``), reading each
    column once instead of building a record per row: the same estimates, for a fraction
    of the cost when there are hundreds of rows (collection points)."""
    size = len(frame) if rows is None else len(range(*rows.indices(len(frame))))
    columns = [
        (frame[c].to_numpy()[rows or slice(None)].tolist() if c in frame.columns else None)
        for c in RESULT_FIELDS
    ]
    n, n_missing, estimate, se, low, high, deff, df, n_eff, note = (
        values if values is not None else [None] * size for values in columns
    )
    clip = metric in RATE_METRICS and method != "logit"
    out = []
    for i in range(size):
        count = int(n[i])
        ci_low, ci_high = number(low[i]), number(high[i])
        if clip:
            ci_low = None if ci_low is None else max(ci_low, 0.0)
            ci_high = None if ci_high is None else min(ci_high, 1.0)
        text = str(note[i] or "")
        reason = reason_for(count, ci_low is not None and ci_high is not None, text, min_n)
        dfs = number(df[i])
        out.append(
            Estimate(
                metric=metric,
                estimate=number(estimate[i]),
                se=number(se[i]),
                ci_low=ci_low,
                ci_high=ci_high,
                n=count,
                n_missing=int(n_missing[i] or 0),
                deff=number(deff[i]),
                n_eff=number(n_eff[i]),
                df=None if dfs is None else int(dfs),
                method=method,
                too_few=bool(reason),
                reason=reason,
                note=text,
                interval_note=interval_note(text),
            )
        )
    return out


def interval_method(design: SurveyDesign, metric: str) -> str:
    """``logit`` for a 0/1 rate, else ``mean`` (what ``analysis`` picks by default)."""
    if metric not in RATE_METRICS:
        return "mean"
    spec = design.outcomes[metric]
    total = design.data[spec.sum].to_numpy(dtype=np.float64)
    squares = design.data[spec.sum_sq].to_numpy(dtype=np.float64)
    return "logit" if bool(np.all(total == squares)) else "mean"


def estimates_by(
    design: SurveyDesign,
    metrics: Sequence[str],
    by: str | None,
    *,
    min_n: int,
    level: float = 0.95,
) -> dict[str, dict[Hashable, Estimate]]:
    """Estimates of every metric per value of column ``by`` (key None: the whole design),
    from one ``svy_estimates`` pass."""
    methods = {m: interval_method(design, m) for m in metrics}
    # a group in one cluster per stratum still has an SE: its interval uses the whole
    # design's df, as R's confint on a svyby does, and says so (issue 24)
    frames = svy_estimates(design, list(metrics), by, method=methods, level=level, zero_df="design")
    return {m: estimates_from_frame(m, frames[m], by, methods[m], min_n) for m in metrics}


def within_points(
    frame: pd.DataFrame, metrics: Sequence[str], *, min_n: int, level: float = 0.95
) -> dict[str, dict[Hashable, Estimate]]:
    """Unweighted within-point estimates (the point's responses as a simple random sample).

    A collection point is one cluster, so the design gives it no interval (df 0); this is
    the interval of the point's own mean, which says how precisely the point is measured.
    One ``mean_ci`` call covers every metric and point.
    """
    columns = [f"{m}_{part}" for m in metrics for part in ("n", "sum", "sum2")]
    sums = frame.groupby("cluster", sort=True)[columns].sum()
    # metric after metric, every cluster within each: one summary row per (metric, cluster)
    summary = pd.DataFrame(
        {
            name: np.concatenate([sums[f"{m}_{part}"].to_numpy() for m in metrics])
            for name, part in (("n", "n"), ("sum", "sum"), ("sum_sq", "sum2"))
        }
    )
    result = mean_ci(summary, level=level)
    clusters = [plain_key(c) for c in sums.index.tolist()]
    out: dict[str, dict[Hashable, Estimate]] = {}
    for i, metric in enumerate(metrics):
        part = slice(i * len(clusters), (i + 1) * len(clusters))
        found = estimates_from_columns(metric, result, "point", min_n, part)
        out[metric] = dict(zip(clusters, found, strict=True))
    return out


def plain_key(value: Any) -> Hashable:
    """A group key as plain Python (NumPy integers become int, timestamps dates)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value  # type: ignore[no-any-return]
