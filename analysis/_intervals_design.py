"""Confidence intervals for design-based estimates, as R's ``svyciprop`` and ``confint``.

All functions are vectorised over groups and return NaN bounds with a note, never raise,
for groups where an interval cannot be formed.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["DESIGN_METHODS", "design_intervals", "is_zero_se"]

FloatArray = npt.NDArray[np.float64]

#: Interval methods with a design: R's ``svyciprop`` methods ``logit`` (computed as its
#: ``xlogit``, the same interval without an internal glm fit), ``beta`` (Korn-Graubard)
#: and ``mean`` (estimate +- t * se, the only method for non-0/1 outcomes).
DESIGN_METHODS: Final[tuple[str, ...]] = ("logit", "beta", "mean")

NOTE_NO_DATA: Final = "not estimable: no non-missing responses"
NOTE_DF0: Final = "not estimable: design df is 0 (the group lies in a single cluster per stratum)"
NOTE_SE0: Final = (
    "not estimable: SE is 0 because the group's responses lie in a single cluster per"
    " stratum (its other clusters have only missing answers): nothing to compare them with"
)
NOTE_SE_ZERO: Final = (
    "SE is 0 although responses differ: the design leaves this estimate no sampling"
    " variance (e.g. the outcome is fixed by the post-stratification cells): zero-width"
    " interval, as R"
)
NOTE_NO_STRATUM: Final = (
    "not estimable: no stratum with two or more clusters (lonely_psu='average')"
)
NOTE_EDGE: Final = (
    "estimate is 0 or 1 so the design SE is 0: Korn-Graubard (Clopper-Pearson) interval with"
    " n_eff = n (R's logit and beta give NaN)"
)
NOTE_EDGE_MEAN: Final = "estimate is 0 or 1 so the design SE is 0: zero-width interval"
NOTE_CONSTANT: Final = "all responses equal so the design SE is 0: zero-width interval"
NOTE_DEFF: Final = "design effect undefined: weights sum to less than the sample size"

# SE below this fraction of the simple-random-sampling SE is treated as exactly zero.
_ZERO_SE: Final = 1e-9


def t_quantile(prob: float, df: FloatArray) -> FloatArray:
    """Student t quantile, NaN where ``df <= 0``."""
    # special.stdtrit is what stats.t.ppf evaluates, without its argument checking (which
    # costs more than the quantiles themselves for a few dozen groups)
    with np.errstate(invalid="ignore"):
        out = special.stdtrit(np.where(df > 0, df, np.nan), np.full(np.shape(df), prob))
    return np.asarray(out, dtype=np.float64)


def is_zero_se(se: FloatArray, spread: FloatArray, n: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether an SE is 0 up to round-off: below 1e-9 of the simple-random-sampling SE."""
    with np.errstate(invalid="ignore"):
        return np.asarray(se <= _ZERO_SE * np.sqrt(spread / np.maximum(n, 1)))


def _kg_bounds(p: FloatArray, n_eff: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Korn-Graubard bounds given an effective sample size (R's ``svyciprop`` beta)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        low = special.betaincinv(n_eff * p, n_eff * (1 - p) + 1, alpha / 2)
        high = special.betaincinv(n_eff * p + 1, n_eff * (1 - p), 1 - alpha / 2)
    low = np.where(p == 0, 0.0, low)
    high = np.where(p == 1, 1.0, high)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _interior_bounds(
    estimate: FloatArray,
    se: FloatArray,
    q: FloatArray,
    interior: npt.NDArray[np.bool_],
    n_rows_beta: FloatArray,
    df: FloatArray,
    *,
    method: str,
    alpha: float,
) -> tuple[FloatArray, FloatArray]:
    """Bounds of a 0/1 outcome by ``logit`` or ``beta`` where ``interior`` (NaN elsewhere)."""
    p = np.where(interior, estimate, 0.5)
    if method == "logit":
        centre = np.log(p / (1 - p))
        half = q * se / (p * (1 - p))
        low = np.where(interior, special.expit(centre - half), np.nan)
        high = np.where(interior, special.expit(centre + half), np.nan)
        return low, high
    ratio = t_quantile(alpha / 2, n_rows_beta - 1) / t_quantile(alpha / 2, df)
    n_eff = p * (1 - p) / np.where(interior, se * se, 1.0) * ratio**2
    lo, hi = _kg_bounds(p, n_eff, alpha)
    return np.where(interior, lo, np.nan), np.where(interior, hi, np.nan)


def design_intervals(
    estimate: FloatArray,
    se: FloatArray,
    df: FloatArray,
    n: FloatArray,
    n_rows_beta: FloatArray,
    spread: FloatArray,
    answered_df: FloatArray,
    *,
    method: str,
    level: float,
    proportion: bool,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Interval bounds and a note per group.

    Parameters
    ----------
    estimate, se, df, n : ndarray
        Estimates, standard errors, design degrees of freedom, non-missing counts.
    n_rows_beta : ndarray
        The ``nrow(design)`` R's beta method uses in its effective-n correction.
    spread : ndarray
        Weighted variance of the responses (0 when all responses are equal).
    answered_df : ndarray
        Clusters minus strata among the clusters that hold the group's non-missing
        responses (``df`` also counts clusters where the group's outcome is missing).
    method : {"logit", "beta", "mean"}
    level : float
    proportion : bool
        Whether the outcome is 0/1.

    Returns
    -------
    (ci_low, ci_high, notes)

    Notes
    -----
    * ``logit``: ``expit(logit(p) +- t_df * se / (p (1 - p)))``.
    * ``beta``: ``n_eff = p (1 - p) / se^2 * (t_{nrow-1} / t_df)^2`` at ``alpha/2``, then
      Clopper-Pearson bounds with ``n_eff`` trials.
    * ``mean``: ``estimate +- t_df * se``.
    * An estimate of exactly 0 or 1 has SE 0; R then returns NaN for ``logit`` and
      ``beta``. We return the Korn-Graubard interval with ``n_eff`` equal to the number of
      responses (their recommendation for this case), with the same df correction, and
      say so in the note. ``mean`` keeps R's zero-width interval.
    * An SE of 0 (up to round-off: below 1e-9 of the simple-random-sampling SE) while
      responses differ has two causes. If the responses lie in more clusters than strata,
      the SE is truly 0: the cluster totals leave no variance, e.g. for an outcome fixed
      by the post-stratification cells. Every method then gives R's zero-width interval
      (R's ``beta`` breaks down there). Otherwise the responses lie in one cluster per
      stratum and the zero only says there is nothing to compare them with: no interval.
    """
    alpha = 1 - level
    q = t_quantile(1 - alpha / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_se = is_zero_se(se, spread, n)
        varied_zero = zero_se & (spread > 0)
        degenerate = varied_zero & ~(answered_df > 0)
        edge = proportion & ((estimate == 0) | (estimate == 1))
        usable = (n > 0) & (df > 0) & np.isfinite(se) & ~degenerate
        interior = usable & ~zero_se & ~edge
        if method == "mean" or not proportion:
            low = np.where(usable, estimate - q * se, np.nan)
            high = np.where(usable, estimate + q * se, np.nan)
        else:
            low, high = _interior_bounds(
                estimate, se, q, interior, n_rows_beta, df, method=method, alpha=alpha
            )
        if proportion and method != "mean" and np.any(usable & edge):
            ratio_edge = t_quantile(alpha / 2, n - 1) / t_quantile(alpha / 2, df)
            lo, hi = _kg_bounds(estimate, n * ratio_edge**2, alpha)
            take = usable & edge
            low = np.where(take, lo, low)
            high = np.where(take, hi, high)
        flat = usable & varied_zero & ~edge
        low = np.where(flat, estimate, low)
        high = np.where(flat, estimate, high)
    edge_note = NOTE_EDGE_MEAN if method == "mean" or not proportion else NOTE_EDGE
    conditions = [n <= 0, ~np.isfinite(se), df <= 0, edge, degenerate, varied_zero, zero_se]
    choices = [
        NOTE_NO_DATA,
        NOTE_NO_STRATUM,
        NOTE_DF0,
        edge_note,
        NOTE_SE0,
        NOTE_SE_ZERO,
        NOTE_CONSTANT,
    ]
    notes: list[str] = np.select(conditions, choices, default="").tolist()
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64), notes
