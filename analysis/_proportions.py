"""Confidence intervals for a simple (unweighted) binomial proportion.

Vectorised over any number of groups: one call computes the intervals of every group.
Design-based intervals (strata, clusters, weights) live elsewhere; these are the intervals
for a simple random sample, e.g. a street's raw awareness rate.
"""

from __future__ import annotations

from typing import Final
from typing import Literal
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special
from scipy import stats

from analysis._errors import AnalysisError
from analysis._validation import check_level

__all__ = ["PROPORTION_METHODS", "ProportionMethod", "proportion_ci"]

ProportionMethod = Literal["wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald"]

#: The closed set of methods accepted by :func:`proportion_ci`.
PROPORTION_METHODS: Final[tuple[str, ...]] = (
    "wilson",
    "clopper-pearson",
    "jeffreys",
    "agresti-coull",
    "wald",
)

#: Column order of the frame returned by :func:`proportion_ci`.
PROPORTION_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "successes",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "note",
)

NOTE_NO_RESPONSES: Final = "no responses"
NOTE_CLIPPED: Final = "interval clipped to [0, 1]"
NOTE_WALD_DEGENERATE: Final = "Wald interval has zero width at 0 or n successes"

FloatArray = npt.NDArray[np.float64]


def as_1d(values: object, name: str) -> FloatArray:
    """Convert scalars, sequences, arrays or Series to a 1-D float array, or raise."""
    if isinstance(values, pd.Series | pd.Index):
        # Nullable dtypes (Int64, Float64) turn <NA> into NaN, which the checks then report.
        try:
            return np.atleast_1d(values.to_numpy(dtype=np.float64, na_value=np.nan))
        except (TypeError, ValueError) as exc:
            raise AnalysisError(f"{name} must be numeric, got dtype {values.dtype}") from exc
    raw = np.asarray(values)
    if raw.ndim > 1:
        raise AnalysisError(f"{name} must be a scalar or one-dimensional, got shape {raw.shape}")
    if raw.dtype == object or not (
        np.issubdtype(raw.dtype, np.number) or np.issubdtype(raw.dtype, np.bool_)
    ):
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise AnalysisError(f"{name} must be numeric, got dtype {raw.dtype}") from exc
    return np.atleast_1d(raw.astype(np.float64))


def check_counts(values: FloatArray, name: str) -> None:
    """Raise unless every value is a finite, non-negative whole number."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise AnalysisError(f"{name} must be finite counts; found {values[bad][0]!r}")
    if (values < 0).any():
        raise AnalysisError(f"{name} must be non-negative; found {values[values < 0][0]!r}")
    frac = values != np.floor(values)
    if frac.any():
        raise AnalysisError(f"{name} must be whole numbers (counts); found {values[frac][0]!r}")


def result_index(*inputs: object) -> pd.Index | None:
    """Index of the pandas inputs (they must agree), or None when no input is pandas."""
    index: pd.Index | None = None
    for item in inputs:
        if isinstance(item, pd.Series):
            if index is None:
                index = item.index
            elif not index.equals(item.index):
                raise AnalysisError("pandas inputs must share the same index")
    return index


def z_value(level: float) -> float:
    """Two-sided standard normal critical value for confidence ``level``."""
    return float(special.ndtri(0.5 + level / 2.0))


def proportion_ci(
    successes: object,
    n: object,
    method: ProportionMethod | str = "wilson",
    level: float = 0.95,
) -> pd.DataFrame:
    """Confidence interval for a binomial proportion, for any number of groups at once.

    Parameters
    ----------
    successes : int, array_like or pandas.Series
        Number of responses counted as a success in each group (e.g. "aware"). Whole,
        non-negative numbers.
    n : int, array_like or pandas.Series
        Number of responses in each group, broadcast against ``successes``.
    method : {"wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald"}
        Interval method (default ``"wilson"``):

        - ``"wilson"``: Wilson (1927) score interval, the default without a design;
        - ``"clopper-pearson"``: the "exact" interval of Clopper & Pearson (1934), inverting
          two one-sided binomial tests (beta quantiles);
        - ``"jeffreys"``: the equal-tailed Jeffreys interval, quantiles of the
          Beta(x + 1/2, n - x + 1/2) posterior, with the boundary modification of Brown, Cai &
          DasGupta (2001): lower bound 0 when x = 0, upper bound 1 when x = n;
        - ``"agresti-coull"``: Agresti & Coull (1998) "add z^2/2 successes and failures";
        - ``"wald"``: the textbook p +/- z se interval, **for comparison only**: its coverage
          is poor for small n or p near 0 or 1.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``n``, ``successes``, ``estimate`` (the sample
        proportion x/n, whatever the method), ``se`` (its estimated standard error
        sqrt(p(1 - p)/n)), ``ci_low``, ``ci_high`` and ``note`` (empty, or why a value is
        missing or was adjusted). When ``successes`` or ``n`` is a pandas Series the
        result carries its index; otherwise the index is a RangeIndex.

    Raises
    ------
    AnalysisError
        Unknown ``method``, ``level`` outside (0, 1), negative or non-whole counts,
        ``successes > n``, mismatched pandas indexes or inputs of more than one dimension.

    Notes
    -----
    A group with ``n = 0`` gets NaN estimate, standard error and bounds, with the note
    ``"no responses"``.

    Edges: at x = 0 the lower bound is exactly 0 and at x = n the upper bound is exactly 1
    for Wilson, Clopper-Pearson and Jeffreys (as statsmodels and R's ``binom.test`` do for
    Clopper-Pearson). The Wilson, Clopper-Pearson and Jeffreys bounds always lie in [0, 1];
    Wilson bounds are clipped to [0, 1] only to remove floating-point rounding. The
    Agresti-Coull and Wald intervals can extend beyond [0, 1]; they are clipped and the row
    is noted ``"interval clipped to [0, 1]"``. At x = 0 or x = n the Wald interval has
    zero width, which is noted.

    The interval contains the estimate x/n for every method except, at very low
    confidence levels (below about 0.15), Jeffreys, whose interval is centred on the
    posterior rather than on x/n (e.g. 1 of 168 at level 0.14).

    Coverage: Clopper-Pearson guarantees at least the nominal coverage and is conservative
    (about 96-99% at nominal 95% for moderate n). Wilson, Jeffreys and Agresti-Coull have
    coverage close to nominal on average over p, with oscillations; Brown, Cai & DasGupta
    (2001) recommend Wilson or Jeffreys for n < 40 and any of the three for larger n. Wald
    coverage can fall far below nominal ("erratic"), even for large n when p is near 0 or 1.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. Journal of the American Statistical Association 22(158), 209-212.
    .. [2] Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
       illustrated in the case of the binomial. Biometrika 26(4), 404-413.
    .. [3] Agresti, A. and Coull, B. A. (1998). Approximate is better than "exact" for
       interval estimation of binomial proportions. The American Statistician 52(2),
       119-126.
    .. [4] Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a
       binomial proportion. Statistical Science 16(2), 101-133.
    .. [5] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
       comparison of seven methods. Statistics in Medicine 17, 857-872.

    Examples
    --------
    >>> proportion_ci(81, 263)[["ci_low", "ci_high"]].round(4).iloc[0].tolist()
    [0.2553, 0.3662]
    """
    if method not in PROPORTION_METHODS:
        raise AnalysisError(
            f"unknown method {method!r}; choose one of {', '.join(PROPORTION_METHODS)}"
        )
    conf = check_level(level)
    index = result_index(successes, n)
    x_in = as_1d(successes, "successes")
    n_in = as_1d(n, "n")
    try:
        x, m = np.broadcast_arrays(x_in, n_in)
    except ValueError as exc:
        raise AnalysisError(
            f"successes and n have incompatible lengths {x_in.size} and {n_in.size}"
        ) from exc
    check_counts(x, "successes")
    check_counts(m, "n")
    over = x > m
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise AnalysisError(
            f"successes cannot exceed n; group {i} has {x[i]:g} successes out of {m[i]:g}"
        )
    if index is not None and len(index) != x.size:
        raise AnalysisError("pandas input length does not match the other input")

    low, high, est, se, note = _interval(x, m, cast(ProportionMethod, method), conf)
    frame = pd.DataFrame(
        {
            "n": m.astype(np.int64),
            "successes": x.astype(np.int64),
            "estimate": est,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "note": note,
        },
        index=index,
    )
    return frame


def _beta_bounds(
    x: FloatArray,
    m: FloatArray,
    method: ProportionMethod,
    alpha: float,
    zero: npt.NDArray[np.bool_],
    full: npt.NDArray[np.bool_],
    empty: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray]:
    """Clopper-Pearson or Jeffreys bounds from the beta quantiles."""
    if method == "clopper-pearson":
        a_low, b_low, a_high, b_high = x, m - x + 1.0, x + 1.0, m - x
    else:
        a_low = a_high = x + 0.5
        b_low = b_high = m - x + 0.5
    # Beta parameters are invalid at the edges; substitute 1 there and overwrite below.
    a_low = np.where(zero | empty, 1.0, a_low)
    b_low = np.where(empty, 1.0, b_low)
    a_high = np.where(empty, 1.0, a_high)
    b_high = np.where(full | empty, 1.0, b_high)
    low = np.asarray(stats.beta.ppf(alpha / 2.0, a_low, b_low), dtype=np.float64)
    high = np.asarray(stats.beta.isf(alpha / 2.0, a_high, b_high), dtype=np.float64)
    return low, high


def _interval(
    x: FloatArray, m: FloatArray, method: ProportionMethod, level: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.object_]]:
    """Bounds, estimate, standard error and notes; inputs already validated."""
    alpha = 1.0 - level
    empty = m == 0
    mm = np.where(empty, 1.0, m)  # placeholder denominators, masked out below
    p = x / mm
    se = np.sqrt(p * (1.0 - p) / mm)
    zero = (x == 0) & ~empty
    full = (x == m) & ~empty
    note = np.full(x.shape, "", dtype=object)
    z = z_value(level)

    if method == "wilson":
        z2 = z * z
        denom = 1.0 + z2 / mm
        center = (p + z2 / (2.0 * mm)) / denom
        half = z * np.sqrt(p * (1.0 - p) / mm + z2 / (4.0 * mm * mm)) / denom
        low = np.clip(center - half, 0.0, 1.0)
        high = np.clip(center + half, 0.0, 1.0)
    elif method in ("clopper-pearson", "jeffreys"):
        low, high = _beta_bounds(x, m, method, alpha, zero, full, empty)
    elif method == "agresti-coull":
        z2 = z * z
        n_t = mm + z2
        p_t = (x + z2 / 2.0) / n_t
        half = z * np.sqrt(p_t * (1.0 - p_t) / n_t)
        raw_low = p_t - half
        raw_high = p_t + half
        low = np.clip(raw_low, 0.0, 1.0)
        high = np.clip(raw_high, 0.0, 1.0)
        note[(raw_low < 0.0) | (raw_high > 1.0)] = NOTE_CLIPPED
    else:  # wald
        raw_low = p - z * se
        raw_high = p + z * se
        low = np.clip(raw_low, 0.0, 1.0)
        high = np.clip(raw_high, 0.0, 1.0)
        note[(raw_low < 0.0) | (raw_high > 1.0)] = NOTE_CLIPPED
        note[zero | full] = NOTE_WALD_DEGENERATE

    if method != "wald":
        low = np.where(zero, 0.0, low)
        high = np.where(full, 1.0, high)
    nan = np.float64(np.nan)
    est = np.where(empty, nan, p)
    se = np.where(empty, nan, se)
    low = np.where(empty, nan, low)
    high = np.where(empty, nan, high)
    note[empty] = NOTE_NO_RESPONSES
    return low, high, est, se, note
