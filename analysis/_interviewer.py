"""The interviewer effect: intra-interviewer correlation and its design effect.

Answers collected by one interviewer resemble each other more than answers collected by
different interviewers (how questions are read, probed and recorded). The intra-interviewer
correlation ``rho`` is estimated with the one-way random-effects ANOVA estimator, for
unequal workloads:

    MSB = sum_j m_j (ybar_j - ybar)^2 / (k - 1)
    MSW = sum_j sum_i (y_ij - ybar_j)^2 / (N - k)
    m0  = (N - sum_j m_j^2 / N) / (k - 1)
    rho = (MSB - MSW) / (MSB + (m0 - 1) MSW)

over ``k`` interviewers with ``m_j`` answered interviews each (``N`` in all), and shown as
the design effect ``deff = 1 + rho (mbar - 1)`` with ``mbar = N / k`` the mean workload
(Kish). ``rho`` may come out negative (no interviewer effect beyond noise); the estimate
is reported as it is, and ``deff`` then lies below 1.

Vectorised: per-interviewer sums come from one ``bincount`` per outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._errors import AnalysisError

__all__ = ["interviewer_effect"]


def _one(y: np.ndarray, codes: np.ndarray, k: int) -> dict[str, float]:
    ok = np.isfinite(y)
    y, g = y[ok], codes[ok]
    m = np.bincount(g, minlength=k).astype(float)
    used = m > 0
    k_used = int(used.sum())
    n = float(m.sum())
    if k_used < 2 or n - k_used < 1:
        return {"n": n, "interviewers": k_used, "rho": np.nan, "deff": np.nan, "mbar": np.nan}
    sums = np.bincount(g, weights=y, minlength=k)
    means = np.divide(sums, m, out=np.zeros_like(sums), where=used)
    grand = y.sum() / n
    msb = float(np.sum(m[used] * (means[used] - grand) ** 2) / (k_used - 1))
    msw = float(np.sum((y - means[g]) ** 2) / (n - k_used))
    m0 = (n - float(np.sum(m**2)) / n) / (k_used - 1)
    denom = msb + (m0 - 1) * msw
    rho = (msb - msw) / denom if denom > 0 else np.nan
    mbar = n / k_used
    return {"n": n, "interviewers": k_used, "rho": rho, "deff": 1 + rho * (mbar - 1), "mbar": mbar}


def interviewer_effect(
    data: pd.DataFrame, *, interviewer: str, outcomes: Sequence[str]
) -> pd.DataFrame:
    """``rho`` and ``deff`` per outcome (rows), with ``n``, ``interviewers`` and ``mbar``.

    ``data``: one row per interview; missing outcome values are left out of that outcome.
    Fewer than two interviewers with answers (or no within-interviewer degrees of freedom)
    gives NaN.
    """
    if interviewer not in data.columns:
        raise AnalysisError(f"unknown interviewer column {interviewer!r}")
    codes, levels = pd.factorize(data[interviewer])
    if (codes < 0).any():
        raise AnalysisError("every interview needs its interviewer")
    rows = {}
    for name in outcomes:
        if name not in data.columns:
            raise AnalysisError(f"unknown outcome column {name!r}")
        y = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        rows[name] = _one(y, codes.astype(np.int64), len(levels))
    return pd.DataFrame.from_dict(rows, orient="index")
