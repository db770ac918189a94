"""Area-level small-area estimation: the Fay–Herriot model (Rao & Molina 2015, ch. 6).

Model, for areas ``i = 1..m`` with a direct estimate ``y_i`` of known sampling variance
``psi_i``::

    y_i = x_i' beta + v_i + e_i,   v_i ~ N(0, sigma2_u),   e_i ~ N(0, psi_i)

* ``sigma2_u`` by REML (Fisher scoring, truncated at 0);
* the EBLUP ``gamma_i y_i + (1 - gamma_i) x_i' beta``, ``gamma_i = sigma2_u / (sigma2_u + psi_i)``;
* its MSE by Prasad–Rao with the REML term: ``g1 + g2 + 2 g3`` (Rao & Molina section 6.2.1);
* areas without a direct estimate get the synthetic ``x_i' beta`` with MSE
  ``sigma2_u + x_i' V(beta) x_i`` (Rao & Molina section 6.2.3, out-of-sample areas);
* normal intervals ``estimate ± z sqrt(mse)``, optionally clipped to the metric's range.

Everything is vectorised over areas; the only loop is over Fisher-scoring iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis._errors import AnalysisError
from analysis._errors import NotEstimableError
from analysis._validation import check_level

__all__ = ["FH_COLUMNS", "FayHerriotFit", "fay_herriot", "smoothed_variances"]

FloatArray = npt.NDArray[np.float64]

#: Columns of :attr:`FayHerriotFit.areas`, one row per area in input order.
FH_COLUMNS = (
    "direct",
    "direct_var",
    "synthetic_value",
    "estimate",
    "mse",
    "se",
    "lower",
    "upper",
    "gamma",
    "synthetic",
)

_MAX_ITER = 200
_TOL = 1e-12


@dataclass(frozen=True)
class FayHerriotFit:
    """A fitted Fay–Herriot model.

    ``areas`` has one row per input area (index kept) with :data:`FH_COLUMNS`: the direct
    estimate and its variance (NaN where the area has none), the regression (synthetic)
    value, the EBLUP (synthetic value for areas without a direct estimate), its MSE and
    standard error, the interval, the shrinkage weight ``gamma`` and whether the estimate is
    synthetic only.
    """

    sigma2_u: float
    beta: FloatArray
    beta_cov: FloatArray
    sigma2_u_var: float
    iterations: int
    converged: bool
    areas_fitted: int
    level: float
    areas: pd.DataFrame


def _as_inputs(
    direct: npt.ArrayLike, variance: npt.ArrayLike, covariates: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    y = np.asarray(direct, dtype=np.float64).reshape(-1)
    psi = np.asarray(variance, dtype=np.float64).reshape(-1)
    x = np.asarray(covariates, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or psi.shape != y.shape:
        raise AnalysisError(
            "direct, variance and covariates need one row per area "
            f"(got {y.shape[0]}, {psi.shape[0]}, {x.shape[0] if x.ndim else 0})"
        )
    if not np.isfinite(x).all():
        raise AnalysisError("covariates must be finite for every area")
    observed = np.isfinite(y)
    if not (np.isfinite(psi[observed]).all() and (psi[observed] > 0).all()):
        raise AnalysisError("every direct estimate needs a finite, positive sampling variance")
    return y, psi, x


def _gls(
    y: FloatArray, psi: FloatArray, x: FloatArray, sigma2: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """beta, (X'V^-1 X)^-1 and the projection P = V^-1 - V^-1 X (X'V^-1 X)^-1 X' V^-1."""
    w = 1.0 / (sigma2 + psi)
    xw = x * w[:, None]
    inv = np.linalg.inv(x.T @ xw)
    beta = inv @ (xw.T @ y)
    p_mat = np.diag(w) - xw @ inv @ xw.T
    return beta, inv, p_mat


def _reml(y: FloatArray, psi: FloatArray, x: FloatArray) -> tuple[float, int, bool]:
    """REML estimate of sigma2_u by Fisher scoring (Rao & Molina section 6.1.2), kept >= 0."""
    m, p = x.shape
    beta_ols = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta_ols
    sigma2 = max(float(resid @ resid) / max(m - p, 1) - float(psi.mean()), 0.0)
    for iteration in range(1, _MAX_ITER + 1):
        _, _, p_mat = _gls(y, psi, x, sigma2)
        py = p_mat @ y
        score = -0.5 * float(np.trace(p_mat)) + 0.5 * float(py @ py)
        info = 0.5 * float(np.sum(p_mat * p_mat))  # tr(P P), P symmetric
        step = score / info
        new = max(sigma2 + step, 0.0)
        if abs(new - sigma2) <= _TOL * max(1.0, sigma2):
            return new, iteration, True
        sigma2 = new
    return sigma2, _MAX_ITER, False


def fay_herriot(
    direct: npt.ArrayLike,
    variance: npt.ArrayLike,
    covariates: npt.ArrayLike,
    *,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
    index: pd.Index | None = None,
) -> FayHerriotFit:
    """Fit the Fay–Herriot model by REML and return EBLUPs with Prasad–Rao MSEs.

    ``direct``: the direct estimates, NaN for areas without one (they get the synthetic
    estimate). ``variance``: their sampling variances, treated as known (ignored where
    ``direct`` is NaN). ``covariates``: the design matrix for every area (include a column
    of ones for an intercept). ``bounds`` clips the intervals (e.g. ``(0, 1)`` for a rate).
    """
    level = check_level(level)
    y, psi, x = _as_inputs(direct, variance, covariates)
    observed = np.isfinite(y)
    yo, po, xo = y[observed], psi[observed], x[observed]
    m, p = xo.shape
    if m <= p or np.linalg.matrix_rank(xo) < p:
        raise NotEstimableError(
            f"the model needs more areas with a direct estimate ({m}) than covariates ({p}), "
            "and covariates of full rank over those areas"
        )
    sigma2, iterations, converged = _reml(yo, po, xo)
    beta, beta_cov, _ = _gls(yo, po, xo, sigma2)
    areas, s2_var = _area_table(y, psi, x, observed, sigma2, beta, beta_cov, level, bounds)
    if index is not None:
        areas.index = index
    return FayHerriotFit(
        sigma2_u=sigma2,
        beta=beta,
        beta_cov=beta_cov,
        sigma2_u_var=s2_var,
        iterations=iterations,
        converged=converged,
        areas_fitted=m,
        level=level,
        areas=areas,
    )


def _area_table(
    y: FloatArray,
    psi: FloatArray,
    x: FloatArray,
    observed: npt.NDArray[np.bool_],
    sigma2: float,
    beta: FloatArray,
    beta_cov: FloatArray,
    level: float,
    bounds: tuple[float, float] | None,
) -> tuple[pd.DataFrame, float]:
    """EBLUP, Prasad–Rao MSE (g1 + g2 + 2 g3) and intervals for every area."""
    synth = x @ beta
    lever = np.einsum("ij,jk,ik->i", x, beta_cov, x)  # x_i' V(beta) x_i
    po = psi[observed]
    s2_var = 2.0 / float(np.sum(1.0 / (sigma2 + po) ** 2))  # asymptotic var of REML sigma2
    psi_o = np.where(observed, psi, 1.0)
    gamma = np.where(observed, sigma2 / (sigma2 + psi_o), 0.0)
    g1 = gamma * psi_o
    g2 = (1.0 - gamma) ** 2 * lever
    g3 = psi_o**2 / (sigma2 + psi_o) ** 3 * s2_var
    mse = np.where(observed, g1 + g2 + 2.0 * g3, sigma2 + lever)
    estimate = np.where(observed, gamma * np.where(observed, y, 0.0) + (1 - gamma) * synth, synth)
    se = np.sqrt(mse)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    lower, upper = estimate - z * se, estimate + z * se
    if bounds is not None:
        lower, upper = np.clip(lower, *bounds), np.clip(upper, *bounds)
    areas = pd.DataFrame(
        {
            "direct": np.where(observed, y, np.nan),
            "direct_var": np.where(observed, psi, np.nan),
            "synthetic_value": synth,
            "estimate": estimate,
            "mse": mse,
            "se": se,
            "lower": lower,
            "upper": upper,
            "gamma": gamma,
            "synthetic": ~observed,
        }
    )
    return areas, s2_var


def smoothed_variances(n: npt.ArrayLike, unit_variance: float, deff: float = 1.0) -> FloatArray:
    """Generalised variance function ``deff * unit_variance / n`` (NaN where n < 1).

    A thin area's own design variance is itself a noisy estimate (a street of 6 residents who
    all answered 知道 has variance 0), which the model would take as exact. The usual remedy
    (Rao & Molina section 6.4) is to smooth: one unit variance for the whole city, scaled by
    the area's sample size and the city's design effect.
    """
    counts = np.asarray(n, dtype=np.float64)
    if not (np.isfinite(unit_variance) and unit_variance > 0 and np.isfinite(deff) and deff > 0):
        raise AnalysisError("unit_variance and deff must be finite and positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts >= 1, deff * unit_variance / counts, np.nan)
