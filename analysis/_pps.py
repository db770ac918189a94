"""Systematic sampling with probability proportional to size (PPS), stratified.

Within each stratum, ``n`` units are drawn with inclusion probabilities proportional to
their measure of size ``M``: ``p_i = n M_i / sum(M)``. A unit whose ``p_i`` would reach 1
is a *certainty* selection: it is taken out, ``n`` drops by one, and the probabilities of
the rest are computed again from what remains, until no remaining unit reaches 1
(``p_i = n' M_i / sum(M')`` over the ``n'`` selections and units ``M'`` left).

The non-certainty units are then selected systematically in frame order: with ``c`` the
cumulative sum of their probabilities and one uniform random start ``u`` in [0, 1) per
stratum, unit ``i`` is selected when an integer ``k`` satisfies ``c_{i-1} <= u + k < c_i``.
Every unit's inclusion probability is then exactly ``p_i``. The random starts come from
``numpy.random.default_rng(seed)``, one per stratum in the order the strata first appear,
so the same frame, sizes and seed give the same sample.

Everything is vectorised over the frame (``groupby`` sums and cumulative sums); the only
loop is over rounds of certainty removal, at most ``max(n)`` of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from analysis._errors import AnalysisError

__all__ = ["PPS_COLUMNS", "pps_probabilities", "pps_systematic"]

#: Columns added to the frame by :func:`pps_systematic`.
PPS_COLUMNS: Final[tuple[str, ...]] = ("prob", "certainty", "selected")


def _codes(frame: pd.DataFrame, stratum: str | None) -> tuple[np.ndarray, pd.Index]:
    if stratum is None:
        return np.zeros(len(frame), dtype=np.int64), pd.Index([None])
    codes, levels = pd.factorize(frame[stratum], sort=False)
    if (codes < 0).any():
        raise AnalysisError(f"stratum column {stratum!r} has missing values")
    return codes.astype(np.int64), pd.Index(levels)


def _sizes(frame: pd.DataFrame, size: str) -> np.ndarray:
    if size not in frame.columns:
        raise AnalysisError(f"unknown size column {size!r}")
    m = pd.to_numeric(frame[size], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise AnalysisError("every measure of size must be a finite number above 0")
    return m


def _wanted(levels: pd.Index, n: int | Mapping[object, int], counts: np.ndarray) -> np.ndarray:
    if isinstance(n, Mapping):
        missing = [lv for lv in levels if lv not in n]
        if missing:
            raise AnalysisError(f"no sample size for stratum {missing[0]!r}")
        wanted = np.array([int(n[lv]) for lv in levels], dtype=np.int64)
    else:
        wanted = np.full(len(levels), int(n), dtype=np.int64)
    if np.any(wanted < 0):
        raise AnalysisError("sample sizes must be 0 or more")
    if np.any(wanted > counts):
        bad = levels[int(np.argmax(wanted > counts))]
        raise AnalysisError(f"stratum {bad!r} has fewer units than the sample size")
    return wanted


def pps_probabilities(
    sizes: np.ndarray, codes: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inclusion probabilities and certainty mask, certainty units taken out iteratively.

    ``sizes``: measure of size per unit; ``codes``: stratum index per unit (0..S-1);
    ``wanted``: sample size per stratum.
    """
    n_strata = len(wanted)
    certain = np.zeros(len(sizes), dtype=bool)
    while True:
        left = np.bincount(codes, weights=np.where(certain, 0.0, sizes), minlength=n_strata)
        taken = np.bincount(codes, weights=certain.astype(float), minlength=n_strata)
        n_left = wanted - taken
        with np.errstate(divide="ignore", invalid="ignore"):
            prob = np.where(left[codes] > 0, n_left[codes] * sizes / left[codes], 0.0)
        new = ~certain & (prob >= 1.0 - 1e-12) & (n_left[codes] > 0)
        if not new.any():
            break
        certain |= new
    return np.where(certain, 1.0, prob), certain


def pps_systematic(
    frame: pd.DataFrame,
    *,
    size: str,
    n: int | Mapping[object, int],
    seed: int,
    stratum: str | None = None,
) -> pd.DataFrame:
    """Draw a stratified systematic PPS sample; return ``frame`` with :data:`PPS_COLUMNS`.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit (e.g. community), in the frame order the systematic draw follows.
    size : str
        Measure-of-size column (finite, > 0), e.g. population or households.
    n : int or mapping
        Units to draw per stratum (one number for every stratum, or stratum -> number).
    seed : int
        Seed of ``numpy.random.default_rng``; record it with the plan.
    stratum : str, optional
        Stratum column (e.g. district); without it the frame is one stratum.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``prob`` (inclusion probability), ``certainty`` (bool) and
        ``selected`` (bool).
    """
    sizes = _sizes(frame, size)
    codes, levels = _codes(frame, stratum)
    wanted = _wanted(levels, n, np.bincount(codes, minlength=len(levels)))
    prob, certain = pps_probabilities(sizes, codes, wanted)
    starts = np.random.default_rng(seed).random(len(levels))
    random_p = np.where(certain, 0.0, prob)
    order = np.argsort(codes, kind="stable")
    cum_sorted = pd.Series(random_p[order]).groupby(codes[order]).cumsum().to_numpy()
    cum = np.empty_like(cum_sorted)
    cum[order] = cum_sorted
    before = cum - random_p
    u = starts[codes]
    hits = np.floor(cum - u + 1e-12) - np.floor(before - u + 1e-12)
    selected = certain | ((hits > 0) & (random_p > 0))
    out = frame.copy()
    out["prob"] = prob
    out["certainty"] = certain
    out["selected"] = selected
    return out
