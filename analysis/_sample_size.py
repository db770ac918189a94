"""Sample-size planning: responses needed for a margin of error, and allocation over strata."""

from __future__ import annotations

from typing import Final
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._errors import AnalysisError
from analysis._proportions import as_1d
from analysis._proportions import check_counts
from analysis._proportions import result_index
from analysis._proportions import z_value
from analysis._validation import check_level

__all__ = ["ALLOCATION_METHODS", "AllocationMethod", "allocate", "sample_size"]

AllocationMethod = Literal["proportional", "neyman"]

#: The closed set of methods accepted by :func:`allocate`.
ALLOCATION_METHODS: Final[tuple[str, ...]] = ("proportional", "neyman")

# Relative slack before rounding up, so that a product like 576.0000000000001 that is 576
# in exact arithmetic is not rounded up to 577.
_CEIL_SLACK: Final = 1e-9

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _ceil(values: FloatArray) -> FloatArray:
    return np.ceil(values * (1.0 - _CEIL_SLACK))


def sample_size(
    margin: object,
    p: object = 0.5,
    deff: object = 1.0,
    level: float = 0.95,
    population: object = None,
) -> int | IntArray | pd.Series:
    """Number of responses needed to estimate a proportion within a margin of error.

    Parameters
    ----------
    margin : float, array_like or pandas.Series
        Desired half-width of the interval on the proportion scale (0.03 = 3 percentage
        points); strictly positive.
    p : float, array_like or pandas.Series, default 0.5
        Expected proportion, strictly between 0 and 1; 0.5 is the conservative choice.
    deff : float, array_like or pandas.Series, default 1.0
        Anticipated design effect (e.g. 1.5 for a clustered, weighted survey); positive.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.
    population : int, array_like or pandas.Series, optional
        Population size N for the finite population correction; None (default) means an
        infinite population.

    Returns
    -------
    int, numpy.ndarray of int64 or pandas.Series
        The required number of responses, rounded up: an int for scalar input, an array for
        array input, a Series (with the input's index) when any input is a Series.

    Raises
    ------
    AnalysisError
        ``margin <= 0``, ``p`` outside (0, 1), ``deff <= 0``, ``level`` outside (0, 1),
        ``population`` not a positive whole number, or inputs of incompatible lengths.

    Notes
    -----
    Without a population size, ``n0 = z**2 * p * (1 - p) * deff / margin**2`` with ``z`` the
    two-sided normal critical value at ``level`` (Cochran 1977, eq. 4.1, times the design
    effect as in Kish 1965). With ``population = N`` the finite population correction gives
    ``n = n0 / (1 + (n0 - 1) / N)`` (Cochran 1977, eq. 4.2), never more than N. The result
    is rounded up to a whole response; a relative slack of 1e-9 before rounding keeps
    floating-point noise (576.0000000000001) from adding a response.

    This is the Wald (normal-approximation) planning formula. The interval actually
    reported (Wilson, logit) differs slightly in width, most for p near 0 or 1 and small n.

    References
    ----------
    .. [1] Cochran, W. G. (1977). Sampling Techniques, 3rd ed., sections 4.4-4.6. Wiley.
    .. [2] Kish, L. (1965). Survey Sampling, section 8.2. Wiley.

    Examples
    --------
    >>> sample_size(0.03, p=0.9, deff=1.5)
    577
    """
    conf = check_level(level)
    index = result_index(margin, p, deff, population)
    arrays = [as_1d(margin, "margin"), as_1d(p, "p"), as_1d(deff, "deff")]
    if population is not None:
        arrays.append(as_1d(population, "population"))
    try:
        bcast = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise AnalysisError("margin, p, deff and population have incompatible lengths") from exc
    e, pp, d = bcast[0], bcast[1], bcast[2]
    if not (np.isfinite(e).all() and (e > 0).all()):
        raise AnalysisError("margin must be a positive number (e.g. 0.03 for 3 points)")
    if not (np.isfinite(pp).all() and ((pp > 0) & (pp < 1)).all()):
        raise AnalysisError("p must be strictly between 0 and 1")
    if not (np.isfinite(d).all() and (d > 0).all()):
        raise AnalysisError("deff must be a positive number")
    z = z_value(conf)
    n0 = z * z * pp * (1.0 - pp) * d / (e * e)
    if population is not None:
        big_n = bcast[3]
        check_counts(big_n, "population")
        if (big_n < 1).any():
            raise AnalysisError("population must be at least 1")
        n0 = np.minimum(n0 / (1.0 + (n0 - 1.0) / big_n), big_n)
    need = np.maximum(_ceil(n0), 1.0).astype(np.int64)
    if index is not None:
        if len(index) != need.size:
            raise AnalysisError("pandas input length does not match the other inputs")
        return pd.Series(need, index=index, name="n")
    if all(np.ndim(np.asarray(a)) == 0 for a in (margin, p, deff, population) if a is not None):
        return int(need[0])
    return need


def _largest_remainder(exact: FloatArray, total: int) -> IntArray:
    """Round non-negative ``exact`` shares summing to ``total`` to integers with that sum.

    Each share gets its floor; the units left over go one each to the shares with the
    largest fractional parts, ties to the earlier stratum (Hamilton's method).
    """
    base = np.floor(exact)
    left = max(round(float(total - base.sum())), 0)
    frac = exact - base
    order = np.argsort(-frac, kind="stable")
    extra = np.zeros(exact.shape, dtype=np.int64)
    extra[order[:left]] = 1
    return base.astype(np.int64) + extra


def allocate(
    total: int,
    strata_sizes: object,
    method: AllocationMethod | str = "proportional",
    stratum_sd: object = None,
) -> IntArray | pd.Series:
    """Allocate a total number of responses over strata, in whole responses.

    Parameters
    ----------
    total : int
        Total number of responses to allocate; whole, non-negative, at most the sum of the
        stratum sizes.
    strata_sizes : array_like or pandas.Series
        Population size N_h of each stratum (e.g. residents per district); whole,
        non-negative numbers.
    method : {"proportional", "neyman"}, default "proportional"
        ``"proportional"``: n_h proportional to N_h. ``"neyman"``: n_h proportional to
        N_h S_h, the allocation minimising the variance of the stratified mean for a fixed
        total (Neyman 1934).
    stratum_sd : array_like or pandas.Series, optional
        Anticipated standard deviation S_h of the outcome per stratum, required for
        ``"neyman"`` (for a proportion, sqrt(p_h (1 - p_h))); non-negative, not all zero.

    Returns
    -------
    numpy.ndarray of int64 or pandas.Series
        Responses per stratum, summing exactly to ``total``; a Series with the index of
        ``strata_sizes`` when that is a Series.

    Raises
    ------
    AnalysisError
        Unknown ``method``, bad sizes or standard deviations, ``total`` larger than the
        population, missing ``stratum_sd`` for Neyman allocation.

    Notes
    -----
    No stratum is given more responses than it has members: a stratum whose share exceeds
    N_h is taken completely and the rest is re-allocated over the other strata in the same
    proportions, repeated until no share exceeds its stratum (Cochran 1977, section 5.9).
    Under Neyman allocation, if the strata with S_h > 0 are all taken completely, the
    responses still to place go to the remaining strata in proportion to N_h.

    Shares are rounded by the largest-remainder (Hamilton) rule: each stratum gets the
    whole part of its share, and the units left over go one each to the strata with the
    largest fractional parts, ties going to the earlier stratum. The result sums exactly
    to ``total`` and differs from each exact share by less than one.

    References
    ----------
    .. [1] Cochran, W. G. (1977). Sampling Techniques, 3rd ed., sections 5.5 and 5.9. Wiley.
    .. [2] Neyman, J. (1934). On the two different aspects of the representative method.
       Journal of the Royal Statistical Society 97(4), 558-625.

    Examples
    --------
    >>> allocate(10, [100, 100, 100]).tolist()
    [4, 3, 3]
    """
    if method not in ALLOCATION_METHODS:
        raise AnalysisError(
            f"unknown allocation method {method!r}; choose one of {', '.join(ALLOCATION_METHODS)}"
        )
    index = result_index(strata_sizes, stratum_sd)
    sizes = as_1d(strata_sizes, "strata_sizes")
    check_counts(sizes, "strata_sizes")
    tot = as_1d(total, "total")
    if tot.size != 1:
        raise AnalysisError("total must be a single whole number")
    check_counts(tot, "total")
    n_total = int(tot[0])
    if n_total > sizes.sum():
        raise AnalysisError(
            f"total {n_total} exceeds the population of all strata ({sizes.sum():.0f})"
        )
    if method == "neyman":
        if stratum_sd is None:
            raise AnalysisError("Neyman allocation needs stratum_sd")
        sd = as_1d(stratum_sd, "stratum_sd")
        if sd.size != sizes.size:
            raise AnalysisError("stratum_sd must have one value per stratum")
        if not (np.isfinite(sd).all() and (sd >= 0).all()):
            raise AnalysisError("stratum_sd must be finite and non-negative")
        weight = sizes * sd
        if n_total > 0 and not (weight > 0).any():
            raise AnalysisError("Neyman allocation needs a positive N_h * S_h in some stratum")
    else:
        weight = sizes.copy()

    exact = np.zeros(sizes.shape)
    fixed = np.zeros(sizes.shape, dtype=bool)
    # Cap at stratum sizes; each pass fixes at least one more stratum, so this ends.
    for _ in range(sizes.size + 1):
        rest = n_total - sizes[fixed].sum()
        if rest > 0 and weight[~fixed].sum() <= 0:
            # Every stratum with S_h > 0 is full: spread the rest in proportion to N_h.
            weight = np.where(fixed, weight, sizes)
        free_weight = weight[~fixed].sum()
        share = np.where(fixed, sizes, rest * weight / free_weight if free_weight > 0 else 0.0)
        over = ~fixed & (share > sizes)
        exact = share
        if not over.any():
            break
        fixed |= over
    out = _largest_remainder(exact, n_total)
    if index is not None:
        return pd.Series(out, index=index, name="n")
    return out
