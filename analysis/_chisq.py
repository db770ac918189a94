"""Design-based test of independence in a two-way table: the Rao-Scott corrected chi-square.

The Pearson statistic of the weighted table is divided by the mean generalised design
effect, and its reference distribution is an F with ``d0`` and ``d0 * df`` degrees of
freedom (Rao and Scott's second-order correction, R's ``svychisq(statistic = "F")``).
Everything needs the full covariance matrix of the estimated cell proportions, which is
formed here from per-cluster totals of the cells' influence values in one pass:
bincounts over (cluster, cell), then one matrix product per design.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis._design import SurveyDesign
from analysis._design import codes_of
from analysis._errors import AnalysisError
from analysis._estimate import _raking_adjustment
from analysis._estimate import cluster_matrix
from analysis._validation import bincount_f
from analysis._validation import check_columns

__all__ = ["ChisqResult", "svy_chisq"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ChisqResult(NamedTuple):
    """Result of :func:`svy_chisq`.

    Attributes
    ----------
    statistic : float
        The Rao-Scott F statistic (Pearson's X^2 over the trace of the design-effect
        matrix); NaN when the test is not defined.
    ndf, ddf : float
        Numerator and denominator degrees of freedom of the F reference distribution
        (``d0`` and ``d0 * df``; not integers in general).
    p_value : float
        Upper tail probability of ``statistic``.
    pearson : float
        Pearson's X^2 of the weighted table scaled to the design's number of respondents
        (R's ``svytable(..., Ntotal = nrow)``).
    mean_deff : float
        Mean generalised design effect: trace of the design-effect matrix over the
        number of independent cells, ``(r - 1)(c - 1)``.
    n : int
        Respondents with both variables present.
    table : pandas.DataFrame
        Estimated cell proportions (rows by the first variable, columns by the second),
        summing to 1 over the table.
    note : str
        Empty, or why the test is not defined.
    """

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    pearson: float
    mean_deff: float
    n: int
    table: pd.DataFrame
    note: str = ""


def svy_chisq(design: SurveyDesign, row: str, col: str) -> ChisqResult:
    """Rao-Scott corrected chi-square test of independence of two categorical columns.

    Parameters
    ----------
    design : SurveyDesign
        From :func:`design_from_units` or :func:`design_from_aggregates`, optionally
        post-stratified or raked. For aggregated data every row must belong to one cell
        of the table: ``row`` and ``col`` are grouping columns of the aggregated frame.
    row, col : str
        Columns of ``design.data``. Missing values leave the respondent out of the table
        (but not out of the design: the test is over the domain of complete answers, as
        R's ``na.rm = TRUE``).

    Returns
    -------
    ChisqResult
        F statistic, its degrees of freedom and p-value, Pearson's X^2, the mean design
        effect, n and the table of estimated proportions.

    Raises
    ------
    AnalysisError
        Unknown columns. (Design columns such as the stratum may be tabulated.)

    Notes
    -----
    Matches R's survey 4.1 ``svychisq(~row + col, design, statistic = "F")``: with the
    estimated cell proportions ``p`` (``svymean`` of the cell indicators over complete
    cases, with their design covariance ``V``), the contrast matrix ``C`` of the
    interaction (the residual of the interaction columns on the main effects),
    ``Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C`` with ``D = diag(p)`` (zero cells get
    ``1/p = 0``), ``F = X^2 / tr(Delta)``, ``d0 = tr(Delta)^2 / tr(Delta^2)`` and
    ``p = P(F(d0, d0 * df) > F)``, where ``df`` is the design's clusters minus strata.
    ``N`` (the design's respondents) cancels out of ``F``.

    Only levels that occur among the complete cases form the table; R keeps a level seen
    only with the other variable missing and then returns NaN. With fewer than two row or
    column levels, or a design with no degrees of freedom, the result is NaN with a note.

    References
    ----------
    Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway contingency
    tables with cell proportions estimated from survey data. Annals of Statistics 12,
    46-60.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R, section 6.2.
    """
    check_columns(design.data, [row, col])
    r_codes, r_levels = codes_of(design.data[row])
    c_codes, c_levels = codes_of(design.data[col])
    inside = (r_codes >= 0) & (c_codes >= 0)
    r_codes, r_levels = _compact(r_codes, r_levels, inside)
    c_codes, c_levels = _compact(c_codes, c_levels, inside)
    nr, nc = len(r_levels), len(c_levels)
    cell = np.where(inside, c_codes * nr + r_codes, -1)
    n = round(float(design.rows[inside].sum()))
    empty = pd.DataFrame(index=pd.Index(r_levels, name=row), columns=pd.Index(c_levels, name=col))
    if nr < 2 or nc < 2:
        return _undefined(n, empty, "not testable: fewer than two levels in a variable")
    if design.df < 1:
        return _undefined(n, empty, "not testable: design df is 0")
    p, covariance = cell_covariance(design, cell, nr * nc)
    table = pd.DataFrame(
        p.reshape(nc, nr).T, index=empty.index, columns=empty.columns, dtype=np.float64
    )
    return _rao_scott(p, covariance, nr, nc, design, n, table)


def _compact(
    codes: IntArray, levels: pd.Index, inside: npt.NDArray[np.bool_]
) -> tuple[IntArray, pd.Index]:
    """Codes renumbered over the levels that occur among complete cases."""
    used = np.unique(codes[inside])
    lut = np.full(len(levels) + 1, -1, dtype=np.int64)
    lut[used] = np.arange(used.size)
    return lut[codes], pd.Index(levels[used])


def _undefined(n: int, table: pd.DataFrame, note: str) -> ChisqResult:
    nan = float("nan")
    return ChisqResult(nan, nan, nan, nan, nan, nan, n, table, note)


def cell_covariance(
    design: SurveyDesign, cell: IntArray, n_cells: int
) -> tuple[FloatArray, FloatArray]:
    """Estimated proportions of ``n_cells`` cells (code -1: outside the table) and their
    linearisation covariance matrix (the ``attr(svymean(mm), "var")`` of R)."""
    inside = cell >= 0
    wm = design.weight * design.rows
    total = float(wm[inside].sum())
    if total <= 0:
        raise AnalysisError("no weight in the table")
    safe = np.where(inside, cell, 0)
    n_clusters = design.n_codes
    key = design.cluster * n_cells + safe
    per_cell = bincount_f(key, weights=np.where(inside, wm, 0.0), minlength=n_clusters * n_cells)
    cluster_cell = per_cell.reshape(n_clusters, n_cells)
    p = cluster_cell.sum(axis=0) / total
    in_cluster = cluster_cell.sum(axis=1)
    totals = (cluster_cell - np.outer(in_cluster, p)) / total
    adjustment = _calibration_adjustment(design, inside, safe, wm, p, total, n_cells)
    if adjustment is not None:
        totals = totals - cluster_matrix(design).T @ adjustment.T
    return p, _stratified_crossproduct(design, totals)


def _calibration_adjustment(
    design: SurveyDesign,
    inside: npt.NDArray[np.bool_],
    cell: IntArray,
    wm: FloatArray,
    p: FloatArray,
    total: float,
    n_cells: int,
) -> FloatArray | None:
    """Per (table cell, calibration cell) coefficients of the calibration residuals."""
    cal = design.calibration
    if cal is None:
        return None
    k = cal.n_cells
    values = np.where(inside, wm, 0.0)
    if cal.method == "rake":
        values = values / design.base_weight
    key = cal.cell * n_cells + cell
    by_cell = bincount_f(key, weights=values, minlength=k * n_cells).reshape(k, n_cells)
    sums = (by_cell - np.outer(by_cell.sum(axis=1), p)) / total
    if cal.method == "poststratify":
        return np.asarray(sums.T / cal.base_total[None, :], dtype=np.float64)
    return _raking_adjustment(np.ascontiguousarray(sums.T), cal.rows, cal.steps)


def _stratified_crossproduct(design: SurveyDesign, totals: FloatArray) -> FloatArray:
    """Sum over strata of the scaled cross-products of centred cluster totals, with the
    design's lonely-PSU rule (as R's ``svyrecvar``). A cluster code of ``m`` PSUs with
    totals ``a`` is ``m`` PSUs of ``a / m``: it adds ``(a - m mu)(a - m mu)' / m``."""
    n_psu = design.n_psu.astype(np.float64)
    f = design.fpc_factor
    starts = design.cluster_starts()
    per_stratum = design.codes_per_stratum()
    size = design.cluster_size.astype(np.float64)[:, None]
    sums = np.add.reduceat(totals, starts, axis=0)
    centred = totals - np.repeat(sums / n_psu[:, None], per_stratum, axis=0) * size
    lonely = n_psu == 1
    certain = f < 1e-7
    rule = design.lonely_psu
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_psu > 1, f * n_psu / np.maximum(n_psu - 1, 1), f)
    if rule == "adjust":
        centred = np.where(np.repeat(lonely, per_stratum)[:, None], totals, centred)
    else:
        scale = np.where(lonely, 0.0, scale)
    scale = np.where(certain, 0.0, scale)
    weights = np.repeat(scale, per_stratum)[:, None] / size
    covariance = (centred * weights).T @ centred
    if rule == "average" and lonely.any():
        kept = int(np.count_nonzero(~lonely & ~certain))
        if kept == 0:
            return np.full_like(covariance, np.nan)
        covariance = covariance * design.n_strata / kept
    return np.asarray(covariance, dtype=np.float64)


def _interaction_contrasts(nr: int, nc: int) -> FloatArray:
    """R's ``Cmat``: interaction columns with the main effects projected out (cells are
    ordered with the row variable varying fastest)."""
    rows = np.tile(np.arange(nr), nc)
    cols = np.repeat(np.arange(nc), nr)
    main = np.column_stack(
        [np.ones(nr * nc)]
        + [(rows == i).astype(float) for i in range(1, nr)]
        + [(cols == j).astype(float) for j in range(1, nc)]
    )
    inter = np.column_stack(
        [((rows == i) & (cols == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(main, inter, rcond=None)
    return np.asarray(inter - main @ coef, dtype=np.float64)


def _rao_scott(
    p: FloatArray,
    covariance: FloatArray,
    nr: int,
    nc: int,
    design: SurveyDesign,
    n: int,
    table: pd.DataFrame,
) -> ChisqResult:
    big_n = design.n_rows
    inv_p = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    contrasts = _interaction_contrasts(nr, nc)
    scaled = contrasts * inv_p[:, None]
    denom = contrasts.T @ scaled / big_n
    numer = scaled.T @ covariance @ scaled
    try:
        delta = np.linalg.solve(denom, numer)
    except np.linalg.LinAlgError:
        return _undefined(n, table, "not testable: singular table (a row or column is empty)")
    trace = float(np.trace(delta))
    trace2 = float(np.trace(delta @ delta))
    joint = table.to_numpy()
    expected = np.outer(joint.sum(axis=1), joint.sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = float(big_n * np.sum((joint - expected) ** 2 / expected))
    if not (trace > 0 and trace2 > 0 and np.isfinite(pearson)):
        return _undefined(n, table, "not testable: no variation in the table")
    statistic = pearson / trace
    d0 = trace * trace / trace2
    ddf = d0 * design.df
    p_value = float(stats.f.sf(statistic, d0, ddf))
    mean_deff = trace / ((nr - 1) * (nc - 1))
    return ChisqResult(statistic, d0, ddf, p_value, pearson, mean_deff, n, table)
