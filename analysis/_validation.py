"""Private input checks for the design-based part of :mod:`analysis`.

Every check raises :class:`~analysis._errors.AnalysisError` with a message that names the
offending column or argument, so that the command line can print it as it is.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._errors import AnalysisError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def as_name_list(names: str | Sequence[str] | None) -> list[str]:
    """Return ``None``, one name or several names as a list of names."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    return [str(name) for name in names]


def check_choice(value: str, allowed: Iterable[str], what: str) -> str:
    """Return ``value`` if it belongs to the closed set ``allowed``, else raise."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise AnalysisError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


def check_level(level: float) -> float:
    """Return the confidence level as a float strictly between 0 and 1."""
    try:
        value = float(level)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"level must be a number in (0, 1), got {level!r}") from exc
    if not 0.0 < value < 1.0:
        raise AnalysisError(f"level must be strictly between 0 and 1, got {level!r}")
    return value


def check_columns(data: pd.DataFrame, columns: Iterable[Hashable], what: str = "data") -> None:
    """Raise if any of ``columns`` is missing from ``data``."""
    missing = [str(c) for c in columns if c not in data.columns]
    if missing:
        known = ", ".join(str(c) for c in data.columns)
        raise AnalysisError(
            f"unknown column{'s' if len(missing) > 1 else ''} {', '.join(missing)} in {what}"
            f" (columns are: {known})"
        )


def numeric_column(data: pd.DataFrame, column: str, what: str) -> FloatArray:
    """Return ``data[column]`` as float64, raising if it is not numeric.

    Booleans count as numeric (0/1). Missing values become NaN.
    """
    series = data[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        raise AnalysisError(f"{what} column {column!r} is categorical, not numeric")
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.asarray(series.astype("float64").to_numpy(), dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise AnalysisError(
            f"{what} column {column!r} is not numeric (dtype {series.dtype});"
            " recode it as numbers (0/1 for a proportion)"
        )
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def positive_weights(values: FloatArray, column: str) -> FloatArray:
    """Raise unless every weight is finite and strictly positive."""
    if values.size == 0 or (values.min() > 0 and np.isfinite(values.max())):
        return values
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise AnalysisError(
            f"weights column {column!r} must be finite and > 0; {int(bad.sum())} row(s) are"
            f" not (first at row {first}, counting from 0: {float(values[first])!r})"
        )
    return values


def nonnegative_counts(values: FloatArray, column: str) -> FloatArray:
    """Raise unless every count is a finite non-negative whole number."""
    bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        raise AnalysisError(f"count column {column!r} must hold whole numbers >= 0")
    return values


def no_missing(data: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise if a design column (strata, cluster, cell) has missing values."""
    for column in columns:
        missing = int(data[column].isna().sum())
        if missing:
            raise AnalysisError(f"{what} column {column!r} has {missing} missing value(s)")


def bincount_f(
    index: npt.NDArray[np.integer[Any]],
    weights: npt.NDArray[np.floating[Any]] | None = None,
    minlength: int = 0,
) -> FloatArray:
    """``np.bincount`` typed as float (sums of weights or counts)."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)
