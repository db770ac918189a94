"""Gaps of domains to the whole design, and the Benjamini-Hochberg step-up rule.

The gap of a domain ``g`` (a street) to the overall figure (the city) is ``m_g - m``,
where both are ratio means over the same design. The domain is part of the whole, so the
two estimates are correlated; the gap's Taylor variance is the design variance of the
difference of the two influence functions, ``z_g - z``: ``w (y - m_g) / W_g`` inside
the domain (0 outside) minus ``w (y - m) / W`` everywhere. Every cluster of the design
carries a share of ``z``, so the cluster totals of a gap live on the grid (domain x
cluster); the variance is then the ultimate-cluster variance of those totals, with
calibration residuals as in :func:`analysis.svy_estimate`.

Cost: one pass over the rows per outcome, then (domains x clusters) for the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis._design import SurveyDesign
from analysis._errors import AnalysisError
from analysis._estimate import Layout
from analysis._estimate import OutcomeSums
from analysis._estimate import build_layout
from analysis._estimate import combine_strata
from analysis._estimate import domain_df
from analysis._estimate import outcome_sums
from analysis._estimate import presence
from analysis._estimate import stratum_sums
from analysis._intervals_design import t_quantile
from analysis._validation import as_name_list
from analysis._validation import check_level

__all__ = ["GAP_COLUMNS", "benjamini_hochberg", "svy_gaps"]

FloatArray = npt.NDArray[np.float64]

#: Columns after the ``by`` columns in a gap result.
GAP_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "estimate",
    "overall",
    "gap",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "t",
    "p_value",
    "note",
)
ALTERNATIVES: Final[tuple[str, ...]] = ("less", "greater", "two-sided")


def svy_gaps(
    design: SurveyDesign,
    outcomes: str | Sequence[str],
    by: str | Sequence[str],
    *,
    level: float = 0.95,
    alternative: str = "less",
) -> dict[str, pd.DataFrame]:
    """Gap ``domain - overall`` of each outcome for every domain of ``by``.

    Parameters
    ----------
    design : SurveyDesign
    outcomes : str or sequence of str
        Outcome columns (aggregated designs: outcome names); missing values are left
        out, as in :func:`analysis.svy_estimate`.
    by : str or sequence of str
        Grouping columns (e.g. street). Rows outside every domain (missing ``by``)
        still count in the overall figure.
    level : float, default 0.95
        Level of the two-sided interval ``gap +- t_df * se``.
    alternative : {"less", "greater", "two-sided"}, default "less"
        Alternative of the p-value: ``less`` tests whether the domain lies below the
        overall figure (H0: gap >= 0), the question of a weak spot.

    Returns
    -------
    dict of str to pandas.DataFrame
        Per outcome, one row per domain: the ``by`` columns, then ``n`` (non-missing
        responses of the domain), ``estimate`` (domain mean), ``overall``, ``gap``,
        ``se``, ``ci_low``, ``ci_high``, ``df`` (clusters minus strata among the
        domain's rows, as :func:`analysis.svy_estimate` counts them), ``t``,
        ``p_value`` and ``note`` (why a value is missing).

    Notes
    -----
    The variance is the linearisation variance of the nonlinear contrast
    ``sum(w y 1_g)/sum(w 1_g) - sum(w y)/sum(w)``, as R's
    ``svycontrast(svytotal(~yg + g + y + one), quote(yg/g - y/one))`` gives.

    The degrees of freedom are the domain's, not the design's: the variance of a gap is
    dominated by the domain's own clusters (a street with four collection points gives a
    variance estimate with about three degrees of freedom), so the t reference with the
    whole design's df would make the test far too liberal. In a null simulation shaped
    like the demo city (``benchmarks/weak_spots_fdr.py``), the design's df gave a
    false-discovery rate of 0.65 at a nominal 0.10; the domain's df keeps it under.
    """
    level = check_level(level)
    if alternative not in ALTERNATIVES:
        raise AnalysisError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    names = [outcomes] if isinstance(outcomes, str) else [str(o) for o in outcomes]
    if not names:
        raise AnalysisError("no outcomes")
    by_list = as_name_list(by)
    if not by_list:
        raise AnalysisError("gaps need at least one by column")
    groups = build_layout(design, by_list)
    whole = build_layout(design, [])
    df = domain_df(design, groups)
    return {name: _gaps(design, groups, whole, name, df, level, alternative) for name in names}


def _gap_variance(
    design: SurveyDesign, groups: Layout, whole: Layout, sg: OutcomeSums, s0: OutcomeSums
) -> FloatArray:
    """Variance of ``m_g - m`` for every domain, from the (domain x cluster) grid."""
    n_groups = groups.n_domains
    n_cells = whole.entry_cluster.size
    position = np.full(design.n_codes, -1, dtype=np.int64)
    position[whole.entry_cluster] = np.arange(n_cells)
    grid = -np.tile(s0.entry_influence, n_groups)
    # (domain, cluster) entries are unique, so a fancy-index add is exact
    grid[groups.entry_domain * n_cells + position[groups.entry_cluster]] += sg.entry_influence
    entry_group = np.repeat(np.arange(n_groups, dtype=np.int64), n_cells)
    entry_cluster = np.tile(whole.entry_cluster, n_groups)
    adjustment = None
    if sg.adjustment is not None and s0.adjustment is not None:
        adjustment = sg.adjustment - s0.adjustment[0][None, :]
    ssc, ssu = stratum_sums(design, entry_group, entry_cluster, grid, n_groups, adjustment)
    present = None
    if design.lonely_psu == "average" and design.calibration is None:
        observed = np.tile(s0.entry_observed, n_groups)
        present = presence(design, entry_group, entry_cluster, n_groups, observed)
    return combine_strata(design, ssc, ssu, present)


def _gaps(
    design: SurveyDesign,
    groups: Layout,
    whole: Layout,
    outcome: str,
    df: FloatArray,
    level: float,
    alternative: str,
) -> pd.DataFrame:
    sg = outcome_sums(design, groups, outcome)
    s0 = outcome_sums(design, whole, outcome)
    var = _gap_variance(design, groups, whole, sg, s0)
    overall = float(s0.mean[0])
    n = sg.n
    gap = np.where(n > 0, sg.mean - overall, np.nan)
    se = np.where(n > 0, np.sqrt(np.maximum(var, 0.0)), np.nan)
    ok = (n > 0) & (df > 0) & (se > 0)
    q = t_quantile(1 - (1 - level) / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_stat = np.where(ok, gap / se, np.nan)
    p_value = _p_values(t_stat, df, alternative)
    notes = np.select(
        [n == 0, df <= 0, ~(se > 0)],
        [
            "not estimable: no non-missing responses",
            "not estimable: df is 0 (the domain has one cluster per stratum)",
            "not estimable: SE of the gap is 0",
        ],
        default="",
    ).tolist()
    out = groups.levels.copy()
    out["n"] = n.astype(np.int64)
    out["estimate"] = sg.mean
    out["overall"] = overall
    out["gap"] = gap
    out["se"] = se
    out["ci_low"] = np.where(ok, gap - q * se, np.nan)
    out["ci_high"] = np.where(ok, gap + q * se, np.nan)
    out["df"] = np.maximum(df, 0).astype(np.int64)
    out["t"] = t_stat
    out["p_value"] = p_value
    out["note"] = notes
    return out


def _p_values(t_stat: FloatArray, df: FloatArray, alternative: str) -> FloatArray:
    usable = np.where(df > 0, df, 1.0)
    lower = special.stdtr(usable, t_stat)  # P(T <= t); NaN stays NaN
    if alternative == "less":
        out = lower
    elif alternative == "greater":
        out = 1.0 - lower
    else:
        out = 2 * special.stdtr(usable, -np.abs(t_stat))
    return np.asarray(np.where(df > 0, out, np.nan), dtype=np.float64)


def benjamini_hochberg(
    p_values: npt.ArrayLike, level: float = 0.1
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Benjamini-Hochberg step-up rule at false-discovery rate ``level``.

    Parameters
    ----------
    p_values : array-like of float
        One p-value per hypothesis; NaN marks a hypothesis that was not tested (left
        out of the family: it neither counts in ``m`` nor is rejected).
    level : float, default 0.1
        The false-discovery rate to control, in (0, 1).

    Returns
    -------
    (rejected, adjusted) : (ndarray of bool, ndarray of float)
        Whether each hypothesis is rejected, and its BH-adjusted p-value (q-value;
        NaN where the p-value was NaN). ``rejected == (adjusted <= level)``.

    Notes
    -----
    Sort the m finite p-values, ``q_(i) = min_{j >= i} min(1, p_(j) m / j)``; reject
    every hypothesis with ``q <= level``. Controls the FDR at ``level`` for independent
    or positively dependent tests (Benjamini and Hochberg 1995; Benjamini and Yekutieli
    2001).
    """
    if not 0 < level < 1:
        raise AnalysisError(f"level must lie in (0, 1), got {level!r}")
    p = np.asarray(p_values, dtype=np.float64).ravel()
    finite = np.flatnonzero(np.isfinite(p))
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise AnalysisError("p-values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    m = finite.size
    if m:
        order = np.argsort(p[finite], kind="stable")
        ranked = p[finite][order] * m / np.arange(1, m + 1)
        stepped = np.minimum.accumulate(ranked[::-1])[::-1]
        adjusted[finite[order]] = np.minimum(stepped, 1.0)
    with np.errstate(invalid="ignore"):
        rejected = np.asarray(adjusted <= level) & np.isfinite(adjusted)
    return rejected, adjusted
