"""Street-level small-area estimates: from direct estimates per area to a Fay–Herriot fit.

:func:`small_area_estimates` builds the model the dashboard uses (and the simulation in
``benchmarks/small_area.py`` checks): covariates are group (district) effects, the area's
previous-period estimate and population-structure shares; sampling variances are smoothed
(:func:`analysis.smoothed_variances`) from the pooled unit variance, the design effect and the
area's sample size. Covariates that cannot be estimated from the areas at hand are dropped and
listed in the result, never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._errors import AnalysisError
from analysis._fay_herriot import FayHerriotFit
from analysis._fay_herriot import fay_herriot
from analysis._fay_herriot import smoothed_variances

__all__ = [
    "SmallAreaResult",
    "VarianceComponents",
    "small_area_estimates",
    "variance_components",
]


@dataclass(frozen=True)
class SmallAreaResult:
    """The fit, the covariates used and those dropped (with why, in English)."""

    fit: FayHerriotFit
    covariates: tuple[str, ...]
    dropped: tuple[str, ...]


def _group_dummies(groups: pd.Series, observed: np.ndarray) -> pd.DataFrame:
    """Dummies of the groups with at least two observed areas (the largest is the base)."""
    counts = groups[observed].value_counts()
    kept = sorted(str(g) for g in counts[counts >= 2].index)
    if len(kept) <= 1:
        return pd.DataFrame(index=groups.index)
    base = str(counts[counts >= 2].idxmax())
    names = [g for g in kept if g != base]
    text = groups.astype(str)
    return pd.DataFrame(
        {f"group={g}": (text == g).astype(float) for g in names}, index=groups.index
    )


def _filled(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Missing covariate values: the group's mean, else the overall mean."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    group_mean = numbers.groupby(groups).transform("mean")
    return numbers.fillna(group_mean).fillna(numbers.mean())


def _design_matrix(
    areas: pd.DataFrame, group: str | None, covariates: Sequence[str], observed: np.ndarray
) -> tuple[pd.DataFrame, list[str]]:
    dropped: list[str] = []
    parts = [pd.DataFrame({"(intercept)": 1.0}, index=areas.index)]
    groups = areas[group] if group else pd.Series("all", index=areas.index)
    for name in covariates:
        column = _filled(areas[name], groups)
        seen = column[observed]
        if column.isna().any():
            dropped.append(f"{name}: no values")
            continue
        if float(seen.std(ddof=0) if len(seen) else 0.0) < 1e-12:
            dropped.append(f"{name}: no variation")
            continue
        parts.append(column.rename(name).to_frame())
    if group:
        parts.append(_group_dummies(groups, observed))
    x = pd.concat(parts, axis=1)
    return _full_rank(x, observed, dropped)


def _full_rank(
    x: pd.DataFrame, observed: np.ndarray, dropped: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Drop columns (last first) until the observed rows have full rank and at least two more
    rows than columns (one degree of freedom for the model variance, one to spare)."""
    m = int(observed.sum())
    while x.shape[1] > 1:
        xo = x.to_numpy()[observed]
        if np.linalg.matrix_rank(xo) == x.shape[1] and m >= x.shape[1] + 2:
            break
        # drop the newest group dummy first, then the named covariates from the last
        last = str(x.columns[-1])
        dropped.append(f"{last}: too few areas for it")
        x = x.iloc[:, :-1]
    return x, dropped


@dataclass(frozen=True)
class VarianceComponents:
    """Variance of one response within a cluster, and of the cluster effects within areas,
    with each area's cluster concentration ``sum_j (n_ij / n_i)^2`` (index: area)."""

    within: float
    between: float
    concentration: pd.Series


def variance_components(
    area: npt.ArrayLike,
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    squares: npt.ArrayLike,
    psus: npt.ArrayLike | None = None,
) -> VarianceComponents:
    """One-way nested ANOVA (clusters within areas) from per-cluster sufficient statistics.

    One row per (area, cluster): the area's key, the cluster's count, sum and sum of squares.
    ``within`` is the pooled within-cluster variance; ``between`` the variance of cluster
    effects, ``max((MSB - MSW) / n0, 0)`` with ``n0 = (N - sum_i sum_j n_ij^2 / n_i) /
    (clusters - areas)`` (Searle, Casella & McCulloch 1992, section 3.6). The sampling
    variance of an area's mean is then ``within / n_i + between * concentration_i``.

    ``psus`` (optional, whole numbers >= 1): the number of identical clusters each row
    stands for, each with ``1/m`` of the row's count and sums (as
    ``design_from_aggregates(psus=)``); the result is that of the written-out clusters.
    """
    key = pd.Series(np.asarray(area)).reset_index(drop=True)
    cnt = np.asarray(n, dtype=np.float64)
    tot = np.asarray(total, dtype=np.float64)
    sq = np.asarray(squares, dtype=np.float64)
    m = np.ones_like(cnt) if psus is None else np.asarray(psus, dtype=np.float64)
    if m.shape != cnt.shape or not np.all((m >= 1) & (m == np.floor(m))):
        raise AnalysisError("psus must give a whole number >= 1 per cluster")
    seen = cnt >= m  # each of the m clusters has at least one response
    key, cnt, tot, sq, m = key[seen].reset_index(drop=True), cnt[seen], tot[seen], sq[seen], m[seen]
    area_n = pd.Series(cnt).groupby(key.to_numpy()).transform("sum").to_numpy()
    area_sum = pd.Series(tot).groupby(key.to_numpy()).transform("sum").to_numpy()
    # m clusters of (cnt, tot, sq) / m add what one cluster of (cnt, tot, sq) adds to these
    ss_within = float(np.sum(sq - tot**2 / cnt))
    ss_between = float(np.sum(tot**2 / cnt) - np.sum(_per_area(area_sum**2 / area_n, key)))
    clusters, areas, total_n = float(m.sum()), int(key.nunique()), float(cnt.sum())
    df_within = total_n - clusters
    if df_within < 1 or ss_within <= 0:
        raise AnalysisError("no variation within clusters: the unit variance cannot be estimated")
    msw = ss_within / df_within
    between = 0.0
    if clusters > areas:
        msb = ss_between / (clusters - areas)
        n0 = (total_n - float(np.sum(cnt**2 / (m * area_n)))) / (clusters - areas)
        between = max((msb - msw) / n0, 0.0)
    share2 = pd.Series((cnt / area_n) ** 2 / m).groupby(key.to_numpy()).sum()
    return VarianceComponents(within=msw, between=between, concentration=share2)


def _per_area(values: np.ndarray, key: pd.Series) -> np.ndarray:
    """One value per area of a column that is constant within areas."""
    return pd.Series(values).groupby(key.to_numpy()).first().to_numpy()


def small_area_estimates(
    areas: pd.DataFrame,
    *,
    direct: str = "direct",
    n: str = "n",
    group: str | None = "district",
    covariates: Sequence[str] = (),
    unit_variance: float,
    deff: float = 1.0,
    cluster_variance: float = 0.0,
    concentration: str | None = None,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> SmallAreaResult:
    """Fay–Herriot estimates for every row of ``areas`` (index kept).

    ``direct``: the area's direct estimate (NaN or ``n`` = 0: no estimate, the area gets the
    synthetic one). ``unit_variance`` and ``deff``: the pooled variance of one response and
    the design effect of weighting, ``cluster_variance`` the variance of cluster (collection
    point) effects and ``concentration`` a column with each area's ``sum_j (n_ij / n_i)^2``
    (see :func:`variance_components`): the smoothed sampling variances are
    ``deff * unit_variance / n + cluster_variance * concentration`` (a street whose 60
    responses came from 2 points is less precise than one whose 60 came from 20).
    """
    counts = pd.to_numeric(areas[n], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    y = pd.to_numeric(areas[direct], errors="coerce").to_numpy(dtype=np.float64)
    observed = np.isfinite(y) & (counts >= 1)
    if int(observed.sum()) < 3:
        raise AnalysisError("a small-area model needs at least 3 areas with responses")
    x, dropped = _design_matrix(areas, group, covariates, observed)
    psi = smoothed_variances(counts, unit_variance, deff)
    if concentration is not None and cluster_variance > 0:
        share2 = pd.to_numeric(areas[concentration], errors="coerce").fillna(1.0)
        psi = psi + cluster_variance * share2.to_numpy(dtype=np.float64)
    fit = fay_herriot(
        np.where(observed, y, np.nan),
        np.where(observed, psi, np.nan),
        x.to_numpy(),
        level=level,
        bounds=bounds,
        index=areas.index,
    )
    return SmallAreaResult(fit=fit, covariates=tuple(map(str, x.columns)), dropped=tuple(dropped))
