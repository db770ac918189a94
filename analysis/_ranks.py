"""Rank intervals for groups (e.g. districts) by seeded multivariate-normal simulation."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis._errors import AnalysisError
from analysis._validation import check_level

__all__ = ["DEFAULT_RANK_SEED", "rank_intervals"]

#: Seed used by :func:`rank_intervals` when none is given, so results are reproducible.
DEFAULT_RANK_SEED: Final = 20240501

# Simulated ranks are processed in blocks of at most this many values to bound memory.
_BLOCK_VALUES: Final = 2_000_000
# Up to this many groups ranks are counted by pairwise comparison rather than by sorting.
_PAIRWISE_MAX_GROUPS: Final = 12
# Standard-normal draws of a seed are kept for reuse up to this many values (2 MB each).
_KEPT_DRAW_VALUES: Final = 250_000

FloatArray = npt.NDArray[np.float64]


def _covariance_factor(cov: FloatArray, k: int) -> FloatArray:
    """A matrix L with L @ L.T == cov, valid also for a singular (semi-definite) cov."""
    if cov.ndim == 1:
        if cov.shape[0] != k:
            raise AnalysisError(f"se must have one value per group ({k}), got {cov.shape[0]}")
        if not (np.isfinite(cov).all() and (cov >= 0).all()):
            raise AnalysisError("standard errors must be finite and non-negative")
        return np.diag(cov)
    if cov.shape != (k, k):
        raise AnalysisError(f"cov must be {k} x {k} (one row per group), got {cov.shape}")
    if not np.isfinite(cov).all():
        raise AnalysisError("cov must be finite")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-14 * float(np.abs(cov).max(initial=0))):
        raise AnalysisError("cov must be symmetric")
    sym = (cov + cov.T) / 2.0
    try:
        # Cholesky when positive definite: a diagonal cov then draws exactly as its se vector.
        return np.asarray(np.linalg.cholesky(sym), dtype=np.float64)
    except np.linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh(sym)
    tol = 1e-10 * max(float(values.max(initial=0.0)), 0.0)
    if (values < -tol).any() or (k > 0 and float(values.max()) < -tol):
        raise AnalysisError("cov must be positive semi-definite")
    values = np.clip(values, 0.0, None)
    return np.asarray(vectors * np.sqrt(values), dtype=np.float64)


def _ranks(values: FloatArray, descending: bool) -> npt.NDArray[np.int64]:
    """Row-wise competition ranks ("min" method, 1 = best) of a 2-D array.

    For a few groups the rank is counted directly (1 + the groups strictly ahead). Otherwise,
    as simulated draws almost never tie, the ranks come from one ``argsort``; rows with a
    tie (zero variances) are ranked by ``rankdata``, which gives tied values the best rank.
    """
    key = -values if descending else values
    k = key.shape[-1]
    if k <= _PAIRWISE_MAX_GROUPS:
        # the "min" rank is 1 + the number of groups strictly ahead: k vectorised
        # comparisons give it directly, ties included, without sorting
        counted = np.ones(key.shape, dtype=np.int64)
        for j in range(k):
            counted += key[..., j : j + 1] < key
        return counted
    order = np.argsort(key, axis=-1, kind="stable")
    ranks = np.empty(key.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, np.arange(1, key.shape[-1] + 1, dtype=np.int64), axis=-1)
    ordered = np.take_along_axis(key, order, axis=-1)
    tied = np.any(ordered[..., 1:] == ordered[..., :-1], axis=-1)
    if np.any(tied):
        ranks[tied] = np.asarray(stats.rankdata(key[tied], method="min", axis=-1), dtype=np.int64)
    return ranks


def _normal_blocks(seed: int | np.random.Generator, n_sim: int, k: int) -> Iterable[FloatArray]:
    """Standard-normal draws ``(n_sim, k)`` of the seed, in blocks of at most
    ``_BLOCK_VALUES`` values. An integer seed always gives the same draws, so small sets are
    kept: a table ranks every metric's groups with the same seed and the same k."""
    small = n_sim * k <= _KEPT_DRAW_VALUES
    if small and isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        return _kept_blocks(int(seed), n_sim, k)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return _draw_blocks(rng, n_sim, k)


@lru_cache(maxsize=4)
def _kept_blocks(seed: int, n_sim: int, k: int) -> tuple[FloatArray, ...]:
    blocks = tuple(_draw_blocks(np.random.default_rng(seed), n_sim, k))
    for block in blocks:
        block.setflags(write=False)
    return blocks


def _draw_blocks(rng: np.random.Generator, n_sim: int, k: int) -> Iterator[FloatArray]:
    """The draws block by block, each drawn when it is needed (memory stays bounded)."""
    size = max(1, _BLOCK_VALUES // k)
    for done in range(0, n_sim, size):
        yield rng.standard_normal((min(size, n_sim - done), k))


def rank_intervals(
    estimates: object,
    cov: object,
    level: float = 0.95,
    n_sim: int = 10_000,
    seed: int | np.random.Generator = DEFAULT_RANK_SEED,
    descending: bool = True,
) -> pd.DataFrame:
    """Rank of each group with an interval that reflects the estimates' joint uncertainty.

    Parameters
    ----------
    estimates : array_like or pandas.Series
        Point estimates of the k groups; a Series' index labels the result.
    cov : array_like
        Either the k x k covariance matrix of the estimates (e.g. from a design-based
        domain estimate, where districts sharing nothing have zero covariance but periods
        sharing clusters do not), or a length-k vector of standard errors when only those
        are known (the estimates are then treated as independent).
    level : float, default 0.95
        Confidence level of each group's rank interval, strictly between 0 and 1.
    n_sim : int, default 10000
        Number of simulated draws; the Monte Carlo error of ``p_best`` is at most
        0.5 / sqrt(n_sim).
    seed : int or numpy.random.Generator, default DEFAULT_RANK_SEED
        Seed of the simulation. The same seed gives the same result.
    descending : bool, default True
        True: the largest estimate ranks first (awareness, satisfaction). False: the
        smallest ranks first.

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``estimate``, ``rank`` (rank of the point estimate,
        1 = best, ties share the best rank), ``rank_low`` and ``rank_high`` (the interval)
        and ``p_best`` (estimated probability of ranking first).

    Raises
    ------
    AnalysisError
        Non-finite estimates, a covariance that is not symmetric positive semi-definite or
        of the wrong shape, negative standard errors, ``n_sim < 1`` or bad ``level``.

    Notes
    -----
    Draws ``theta* ~ N(estimates, cov)`` (through the Cholesky factor, or a symmetric
    eigen-decomposition when cov is singular, which is accepted), ranks the groups in
    every draw and reports the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of each
    group's simulated rank, as the smallest rank whose cumulative frequency reaches the
    probability (the "inverted CDF" quantile: both ends are ranks that occurred).
    ``p_best`` is the share of draws in which the group ranks first; groups tied in a draw
    (only possible with zero variance) all count as first. The interval is marginal per
    group, not simultaneous: the chance that every group's true rank lies in its interval
    at once is lower than ``level``. A vector of standard errors draws exactly as the
    diagonal covariance with those variances, for the same seed.

    The normal approximation to the joint distribution of the estimates is the usual
    large-sample one; for a small group whose estimate is near 0 or 1 it understates the
    skewness. Groups without an estimate must be removed before ranking.

    References
    ----------
    .. [1] Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their
       limitations: statistical issues in comparisons of institutional performance.
       Journal of the Royal Statistical Society A 159(3), 385-443.
    .. [2] Marshall, E. C. and Spiegelhalter, D. J. (1998). Reliability of league tables of
       in vitro fertilisation clinics. BMJ 316, 1701-1704.
    """
    conf = check_level(level)
    if isinstance(n_sim, bool) or not isinstance(n_sim, int | np.integer) or n_sim < 1:
        raise AnalysisError(f"n_sim must be a positive integer, got {n_sim!r}")
    index = estimates.index if isinstance(estimates, pd.Series) else None
    try:
        est = np.asarray(estimates, dtype=np.float64)
        cov_a = np.asarray(cov, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError("estimates and cov must be numeric") from exc
    if est.ndim != 1:
        raise AnalysisError("estimates must be one-dimensional")
    if not np.isfinite(est).all():
        raise AnalysisError("estimates must be finite; drop groups without an estimate first")
    k = est.shape[0]
    if k == 0:
        raise AnalysisError("no groups to rank")
    factor = _covariance_factor(cov_a, k)
    counts = np.zeros((k, k), dtype=np.int64)  # counts[g, r - 1]: draws with group g at rank r
    offsets = np.arange(k, dtype=np.int64) * k
    for normals in _normal_blocks(seed, n_sim, k):
        draws = est + normals @ factor.T
        ranks = _ranks(draws, descending)
        counts += np.bincount((ranks - 1 + offsets).ravel(), minlength=k * k).reshape(k, k)

    cdf = np.cumsum(counts, axis=1) / n_sim
    alpha = 1.0 - conf
    eps = 1e-12
    rank_low = (cdf < alpha / 2.0 - eps).sum(axis=1) + 1
    rank_high = (cdf < 1.0 - alpha / 2.0 - eps).sum(axis=1) + 1
    point = _ranks(est[np.newaxis, :], descending)[0]
    return pd.DataFrame(
        {
            "estimate": est,
            "rank": point,
            "rank_low": rank_low.astype(np.int64),
            "rank_high": rank_high.astype(np.int64),
            "p_best": counts[:, 0] / n_sim,
        },
        index=index,
    )
