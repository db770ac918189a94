"""t-based confidence intervals for a simple (unweighted) mean, vectorised over groups.

Two input forms give the same answer: unit-level rows (a DataFrame and an outcome column)
or per-group sufficient statistics ``n``, ``sum`` and ``sum_sq`` as a database returns them
from ``COUNT(x), SUM(x), SUM(x*x) ... GROUP BY``.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis._errors import AnalysisError
from analysis._proportions import check_counts
from analysis._validation import check_level

__all__ = ["MEAN_COLUMNS", "SUMMARY_COLUMNS", "mean_ci", "mean_summary"]

#: Column order of the frame returned by :func:`mean_ci`.
MEAN_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "n_missing",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "note",
)

#: Sufficient statistics of the summary input form (``n_missing`` is optional).
SUMMARY_COLUMNS: Final[tuple[str, ...]] = ("n", "sum", "sum_sq")

NOTE_NO_RESPONSES: Final = "no responses"
NOTE_ONE_RESPONSE: Final = "only 1 response: a standard error needs at least 2, so no interval"
NOTE_NO_SPREAD: Final = "all responses are equal: zero-width interval"

FloatArray = npt.NDArray[np.float64]


def _by_list(by: str | Sequence[Hashable] | None) -> list[Hashable]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _check_columns(data: pd.DataFrame, columns: Sequence[Hashable]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise AnalysisError(f"unknown column(s): {', '.join(map(str, missing))}")


def _numeric_outcome(data: pd.DataFrame, outcome: Hashable) -> pd.Series:
    col = data[outcome]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise AnalysisError(f"outcome column {outcome!r} is not numeric (dtype {col.dtype})")
    values = col.astype(np.float64)
    if np.isinf(values.to_numpy()).any():
        raise AnalysisError(f"outcome column {outcome!r} contains infinite values")
    return values


def mean_summary(
    data: pd.DataFrame, outcome: Hashable, by: str | Sequence[Hashable] | None = None
) -> pd.DataFrame:
    """Per-group sufficient statistics of an outcome, as SQL would aggregate them.

    Parameters
    ----------
    data : pandas.DataFrame
        Unit-level rows, one per response.
    outcome : hashable
        Numeric outcome column; missing values (NaN) are excluded and counted.
    by : str or sequence of str, optional
        Grouping columns. Groups are formed as ``DataFrame.groupby(by, observed=True,
        dropna=False)`` forms them.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (non-missing responses), ``n_missing``, ``sum`` and ``sum_sq``, indexed
        by the groups (one row with index ``[0]`` when ``by`` is None).
    """
    keys = _by_list(by)
    _check_columns(data, [outcome, *keys])
    values = _numeric_outcome(data, outcome)
    work = pd.DataFrame(
        {"value": values, "sq": values * values, "missing": values.isna().astype(np.int64)}
    )
    if not keys:
        return pd.DataFrame(
            {
                "n": [int(values.notna().sum())],
                "n_missing": [int(work["missing"].sum())],
                "sum": [float(values.sum())],
                "sum_sq": [float(work["sq"].sum())],
            }
        )
    grouped = work.groupby([data[k] for k in keys], observed=True, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "n": grouped["value"].count().astype(np.int64),
            "n_missing": grouped["missing"].sum().astype(np.int64),
            "sum": grouped["value"].sum(),
            "sum_sq": grouped["sq"].sum(),
        }
    )
    return out


def mean_ci(
    data: pd.DataFrame,
    outcome: Hashable | None = None,
    by: str | Sequence[Hashable] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """t-based confidence interval for an unweighted mean, for any number of groups.

    Parameters
    ----------
    data : pandas.DataFrame
        Either unit-level rows (give ``outcome``), or per-group sufficient statistics with
        columns ``n``, ``sum``, ``sum_sq`` and optionally ``n_missing`` (leave ``outcome``
        as None). In the summary form each row is one group and the row index (or the
        ``by`` columns, when given) identifies it.
    outcome : hashable, optional
        Numeric outcome column of unit-level ``data``, e.g. the 0-100 satisfaction score.
        Missing values are excluded from the estimate and counted in ``n_missing``.
    by : str or sequence of str, optional
        Grouping columns; they become the index of the result.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``n_missing``, ``estimate`` (the sample mean), ``se`` (s / sqrt(n)),
        ``ci_low``, ``ci_high``, ``df`` (n - 1) and ``note``.

    Raises
    ------
    AnalysisError
        Unknown or non-numeric columns, infinite values, invalid sufficient statistics
        (negative or non-whole ``n``, ``sum_sq`` inconsistent with ``sum``), bad ``level``.

    Notes
    -----
    The interval is mean +/- t_{n-1, (1+level)/2} s / sqrt(n), with s the sample standard
    deviation (divisor n - 1). It is exact for normal data and, by the central limit
    theorem, close to nominal for a bounded score such as 0-100 once n is moderate (say
    30 or more); with strong skew and small n the coverage can fall short.

    A group with no responses has note ``"no responses"`` and NaN estimate; a group with
    one response has its estimate but no standard error or interval (a variance needs two
    responses); a group whose responses are all equal gets a zero-width interval, noted.

    Both forms compute the variance from the same sufficient statistics as
    ``(sum_sq - sum**2 / n) / (n - 1)``, so unit-level rows and SQL aggregates give the
    same answer up to the order of floating-point summation. That formula loses precision
    when the mean is huge relative to the standard deviation (cancellation); for scores
    on a 0-100 scale it is accurate to about 1e-12 relative even for millions of rows. The
    variance is floored at 0 against rounding.

    References
    ----------
    .. [1] Student (1908). The probable error of a mean. Biometrika 6(1), 1-25.
    .. [2] Cochran, W. G. (1977). Sampling Techniques, 3rd ed., section 2.5. Wiley.
    """
    conf = check_level(level)
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError("data must be a pandas DataFrame (unit rows or per-group sums)")
    keys = _by_list(by)
    if outcome is not None:
        summary = mean_summary(data, outcome, keys or None)
    else:
        _check_columns(data, [*SUMMARY_COLUMNS, *keys])
        summary = data.set_index(keys) if keys else data
    return _from_summary(summary, conf)


def _from_summary(summary: pd.DataFrame, level: float) -> pd.DataFrame:
    n = summary["n"].to_numpy(dtype=np.float64)
    total = summary["sum"].to_numpy(dtype=np.float64)
    sum_sq = summary["sum_sq"].to_numpy(dtype=np.float64)
    check_counts(n, "n")
    if "n_missing" in summary.columns:
        n_missing = summary["n_missing"].to_numpy(dtype=np.float64)
        check_counts(n_missing, "n_missing")
    else:
        n_missing = np.zeros_like(n)
    if not (np.isfinite(total).all() and np.isfinite(sum_sq).all()):
        raise AnalysisError("sum and sum_sq must be finite")
    empty = n == 0
    safe_n = np.where(empty, 1.0, n)
    if ((total != 0) & empty).any() or ((sum_sq != 0) & empty).any():
        raise AnalysisError("a group with n = 0 must have sum = 0 and sum_sq = 0")
    mean = total / safe_n
    ss = sum_sq - total * mean  # sum of squared deviations
    scale = np.maximum(sum_sq, 1.0)
    if (ss < -1e-9 * scale).any():
        raise AnalysisError("sum_sq is smaller than sum**2 / n: inconsistent sufficient statistics")
    # Spread below the rounding error of the sums is indistinguishable from none.
    ss = np.where(ss <= 4.0 * np.finfo(np.float64).eps * safe_n * sum_sq, 0.0, ss)
    few = n < 2
    df = np.where(few, np.nan, n - 1.0)
    var = ss / np.where(few, 1.0, n - 1.0)
    se = np.where(few, np.nan, np.sqrt(var / safe_n))
    t = np.where(few, np.nan, special.stdtrit(np.where(few, 1.0, df), 0.5 + level / 2.0))
    half = t * se
    nan = np.float64(np.nan)
    estimate = np.where(empty, nan, mean)
    note = np.full(n.shape, "", dtype=object)
    note[(se == 0) & ~few] = NOTE_NO_SPREAD
    note[n == 1] = NOTE_ONE_RESPONSE
    note[empty] = NOTE_NO_RESPONSES
    return pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "n_missing": n_missing.astype(np.int64),
            "estimate": estimate,
            "se": se,
            "ci_low": estimate - half,
            "ci_high": estimate + half,
            "df": df,
            "note": note,
        },
        index=summary.index,
    )
