"""Design-based means and proportions for domains, in one vectorised pass.

The estimator of a domain's mean is the ratio ``sum(w y) / sum(w)`` over the domain's
responses. Its variance is the Taylor (linearisation) variance of R's ``svymean``: the
influence value of a response is ``w (y - ybar) / sum(w)`` inside the domain and 0 outside;
calibration replaces influence values by their residuals as R's ``svyrecvar`` does; the
variance is the with-replacement, ultimate-cluster variance of the cluster totals of the
influence values. Domains are estimated over the whole design, as R's ``svyby``, so their
standard errors and degrees of freedom are those of domain estimation, not of a cut-out
sample.

Everything is computed from per (domain, cluster) sums, and the sums are formed with
single ``bincount`` calls over all rows: there is no loop over rows or domains.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from analysis._design import SurveyDesign
from analysis._design import combine_codes
from analysis._design import dense_cells
from analysis._design import raw_codes
from analysis._errors import AnalysisError
from analysis._intervals_design import DESIGN_METHODS
from analysis._intervals_design import NOTE_DEFF
from analysis._intervals_design import NOTE_SE_ZERO
from analysis._intervals_design import design_intervals
from analysis._intervals_design import is_zero_se
from analysis._validation import as_name_list
from analysis._validation import bincount_f
from analysis._validation import check_choice
from analysis._validation import check_columns
from analysis._validation import check_level

__all__ = ["RESULT_COLUMNS", "svy_estimate", "svy_estimates"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns that follow the group columns in every result.
RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "n_missing",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "df",
    "n_eff",
    "note",
)

#: Rules for a domain whose own degrees of freedom are 0 (see :func:`svy_estimate`).
ZERO_DF_RULES: Final[tuple[str, ...]] = ("none", "design")
#: Note on a domain whose interval uses the whole design's degrees of freedom.
NOTE_DESIGN_DF: Final = (
    "interval with the whole design's df: the group's own df is 0 (as R's confint on svyby)"
)

# Number of (group x cluster) values held at once by the calibrated variance.
_BLOCK_CELLS: Final = 4_000_000
# Up to this many calibration cells the calibrated variance uses the Gram expansion.
_EXPANSION_MAX_CELLS: Final = 64


@dataclass(frozen=True)
class Layout:
    """Domains of a ``by`` and the (domain, cluster) cells they occupy (outcome-free)."""

    n_domains: int
    levels: pd.DataFrame
    row_domain: IntArray
    row_entry: IntArray
    entry_domain: IntArray
    entry_cluster: IntArray
    entry_rows: FloatArray
    row_domain_cell: IntArray | None
    cache: dict[str, dict[str, FloatArray]] = field(default_factory=dict, repr=False)

    @property
    def n_entries(self) -> int:
        return int(self.entry_domain.size)


@dataclass(frozen=True)
class OutcomeSums:
    """Per-domain sums of one outcome and the per-entry influence totals."""

    n: FloatArray
    n_missing: FloatArray
    weight_sum: FloatArray
    mean: FloatArray
    spread: FloatArray
    entry_influence: FloatArray
    entry_observed: FloatArray
    adjustment: FloatArray | None
    proportion: bool


def _bincount(index: IntArray, weights: FloatArray | None, size: int) -> FloatArray:
    """``bincount`` with a sentinel bin ``size`` (rows outside every domain) dropped."""
    return bincount_f(index, weights=weights, minlength=size + 1)[:size].astype(np.float64)


def build_layout(design: SurveyDesign, by: Sequence[str]) -> Layout:
    """Domain codes and (domain, cluster) cells for grouping columns ``by``.

    Rows with a missing value in a ``by`` column belong to no domain (they stay in the
    design and its weighting).
    """
    by = list(by)
    check_columns(design.data, by)
    n_rows = len(design.data)
    if by:
        codes, levels = zip(*(raw_codes(design.data[b]) for b in by), strict=True)
        row_domain, n_domains, parts, _ = combine_codes(list(codes), [len(lv) for lv in levels])
        frame = pd.DataFrame({b: levels[j][parts[:, j]] for j, b in enumerate(by)}).reset_index(
            drop=True
        )
    else:
        row_domain, n_domains = np.zeros(n_rows, dtype=np.int64), 1
        frame = pd.DataFrame(index=range(1))
    n_clusters = design.n_codes
    outside = row_domain < 0
    has_outside = bool(outside.any())
    total = n_domains * n_clusters
    key = row_domain * n_clusters + design.cluster
    if has_outside:
        key[outside] = total
    entry_rows: FloatArray | None = None
    if dense_cells(total, n_rows):
        counts = bincount_f(key, minlength=total + 1)[:total]
        present = np.flatnonzero(counts)
        lut = np.full(total + 1, present.size, dtype=np.int64)
        lut[present] = np.arange(present.size)
        row_entry = lut[key]
        if not design.aggregated:
            entry_rows = counts[present].astype(np.float64)
    else:
        uniques, inverse = np.unique(key, return_inverse=True)
        present = uniques[uniques < total]
        row_entry = np.where(inverse < present.size, inverse, present.size).astype(np.int64)
    if entry_rows is None:
        weights = design.rows if design.aggregated else None
        entry_rows = _bincount(row_entry, weights, present.size)
    row_domain_cell = None
    if design.calibration is not None:
        cal = design.calibration
        row_domain_cell = row_domain * cal.n_cells + cal.cell
        if has_outside:
            row_domain_cell[outside] = n_domains * cal.n_cells
    return Layout(
        n_domains=n_domains,
        levels=frame,
        row_domain=np.where(outside, n_domains, row_domain) if has_outside else row_domain,
        row_entry=row_entry,
        entry_domain=present // n_clusters,
        entry_cluster=present % n_clusters,
        entry_rows=entry_rows,
        row_domain_cell=row_domain_cell,
    )


def _layout_totals(design: SurveyDesign, layout: Layout) -> dict[str, FloatArray]:
    """Outcome-free weight totals per entry and per (domain, cell), computed once.

    An outcome's sums over its non-missing responses are these totals minus the sums
    over the (usually few) missing ones, which saves passes over all rows.
    """
    cached = layout.cache.get("totals")
    if cached is not None:
        return cached
    w = design.weight
    wm = w * design.rows if design.aggregated else w
    totals = {"entry_w": _bincount(layout.row_entry, wm, layout.n_entries)}
    cal = design.calibration
    if cal is not None and layout.row_domain_cell is not None:
        size = layout.n_domains * cal.n_cells
        totals["cell_w"] = _bincount(layout.row_domain_cell, wm, size)
        if cal.method == "rake":
            ratio = w / design.base_weight
            rm = ratio * design.rows if design.aggregated else ratio
            totals["cell_r"] = _bincount(layout.row_domain_cell, rm, size)
    layout.cache["totals"] = totals
    return totals


def _is_proportion(
    design: SurveyDesign,
    outcome: str,
    total: FloatArray,
    total_sq: FloatArray | None,
    miss: Any,
    miss_n: FloatArray,
) -> bool:
    """Whether ``outcome`` is a 0/1 indicator (its sums of squares equal its sums)."""
    if total_sq is not None:
        n_obs = design.rows.copy()
        n_obs[miss] -= miss_n
        return bool(np.all(total == total_sq) and np.all(total >= 0) and np.all(total <= n_obs))
    ones = int(np.count_nonzero(total == 1.0))
    proportion = ones + int(np.count_nonzero(total == 0.0)) == total.size
    if not proportion and not np.isfinite(total.sum()):
        raise AnalysisError(f"outcome column {outcome!r} has infinite values")
    return proportion


def _calibration_adjustment(
    design: SurveyDesign,
    layout: Layout,
    base: dict[str, FloatArray],
    total: FloatArray,
    miss: Any,
    miss_n: FloatArray,
    mean0: FloatArray,
    inv_w: FloatArray,
) -> FloatArray:
    """Per (domain, calibration cell) the correction of the influence totals for the
    post-stratified or raked weights."""
    cal = design.calibration
    assert cal is not None and layout.row_domain_cell is not None
    w = design.weight
    d, k = layout.n_domains, cal.n_cells
    dk = layout.row_domain_cell
    mean_x = mean0[:, None]
    inv_x = inv_w[:, None]
    miss_dk = dk[miss]
    if cal.method == "poststratify":
        t_y = _bincount(dk, w * total, d * k).reshape(d, k)
        miss_w = w[miss] * miss_n
        t_w = (base["cell_w"] - _bincount(miss_dk, miss_w, d * k)).reshape(d, k)
        cell_totals = (t_y - mean_x * t_w) * inv_x
        return cell_totals / cal.base_total[None, :]  # type: ignore[no-any-return]
    ratio = w / design.base_weight
    r_y = _bincount(dk, ratio * total, d * k).reshape(d, k)
    miss_r = ratio[miss] * miss_n
    r_w = (base["cell_r"] - _bincount(miss_dk, miss_r, d * k)).reshape(d, k)
    scaled = (r_y - mean_x * r_w) * inv_x
    return _raking_adjustment(scaled, cal.rows, cal.steps)


def outcome_sums(design: SurveyDesign, layout: Layout, outcome: str) -> OutcomeSums:
    """Domain means and influence totals of ``outcome`` (available-case)."""
    total, total_sq, miss, miss_n = design.outcome_arrays(outcome)
    base = _layout_totals(design, layout)
    w = design.weight
    size = layout.n_entries
    proportion = _is_proportion(design, outcome, total, total_sq, miss, miss_n)
    wy = w * total
    miss_entry = layout.row_entry[miss]
    miss_w = w[miss] * miss_n
    e_w = base["entry_w"] - _bincount(miss_entry, miss_w, size)
    e_n = layout.entry_rows - _bincount(miss_entry, miss_n, size)
    e_y = _bincount(layout.row_entry, wy, size)
    # for 0/1 responses y^2 = y, so the sum of squares needs no second pass
    if proportion:
        e_y2 = e_y
    else:
        squares = total * total if total_sq is None else total_sq
        e_y2 = _bincount(layout.row_entry, w * squares, size)
    d = layout.n_domains
    dom = layout.entry_domain
    # (all - missing) leaves round-off where every response is missing: counts are exact
    e_w = np.where(e_n > 0, e_w, 0.0)
    n = bincount_f(dom, weights=e_n, minlength=d)
    answered = n > 0
    weight_sum = np.where(answered, bincount_f(dom, weights=e_w, minlength=d), 0.0)
    y_sum = bincount_f(dom, weights=e_y, minlength=d)
    y2_sum = bincount_f(dom, weights=e_y2, minlength=d)
    n_all = bincount_f(dom, weights=layout.entry_rows, minlength=d)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(answered, y_sum / weight_sum, np.nan)
        if proportion:
            # all responses 1: the weight total is formed as (all - missing), so allow
            # round-off (the smallest possible gap is one response's weight)
            mean = np.where(answered & (weight_sum - y_sum <= 1e-12 * weight_sum), 1.0, mean)
            spread = mean * (1.0 - mean)
        else:
            spread = np.where(weight_sum > 0, (y2_sum - mean * y_sum) / weight_sum, np.nan)
        inv_w = np.where(weight_sum > 0, 1.0 / weight_sum, 0.0)
    mean0 = np.nan_to_num(mean)
    influence = (e_y - mean0[dom] * e_w) * inv_w[dom]
    adjustment = None
    if design.calibration is not None and layout.row_domain_cell is not None:
        adjustment = _calibration_adjustment(
            design, layout, base, total, miss, miss_n, mean0, inv_w
        )
    return OutcomeSums(
        n=n,
        n_missing=n_all - n,
        weight_sum=weight_sum,
        mean=mean,
        spread=spread,
        entry_influence=influence,
        entry_observed=e_n,
        adjustment=adjustment,
        proportion=proportion,
    )


def _raking_adjustment(
    scaled: FloatArray,
    cell_rows: FloatArray,
    steps: Sequence[tuple[IntArray, int, FloatArray]],
) -> FloatArray:
    """Cell coefficients ``C`` of R's raking residuals (10 passes over the margins).

    R replaces influence values ``x`` by ``x - psw * ave(x / psw, margin)`` for each
    margin, ten times, where ``psw`` are the weights right after that margin's step. With
    ``psw = d * G_k`` the adjusted value of a row of cell ``k`` is ``z - d * C[:, k]``;
    ``scaled`` holds the sums of ``z / d`` per (domain, cell).
    """
    adj = np.zeros_like(scaled)
    for _ in range(10):
        for code, n_levels, factor in steps:
            per_cell = (scaled - cell_rows[None, :] * adj) / factor[None, :]
            indicator = sparse.csr_matrix(
                (np.ones(code.size), (np.arange(code.size), code)), shape=(code.size, n_levels)
            )
            level_sum = np.asarray(indicator.T @ per_cell.T).T
            level_rows = bincount_f(code, weights=cell_rows, minlength=n_levels)
            level_mean = level_sum / level_rows[None, :]
            adj = adj + factor[None, :] * level_mean[:, code]
    return adj


def cluster_matrix(design: SurveyDesign) -> FloatArray | sparse.csr_matrix:
    """Design-weight totals per (cell, cluster): the ``Q`` of the calibration residuals.

    Dense when small (the usual case: a few dozen cells times a few thousand clusters).
    """
    cal = design.calibration
    if cal is None:
        raise AnalysisError("internal: design is not calibrated")
    cached = cal.cache.get("cluster_matrix")
    if cached is not None:
        return cached
    values = design.base_weight * design.rows
    n_codes = design.n_codes
    size = cal.n_cells * n_codes
    q: FloatArray | sparse.csr_matrix
    if size <= _BLOCK_CELLS:
        key = cal.cell * n_codes + design.cluster
        dense = bincount_f(key, weights=values, minlength=size)
        q = dense.reshape(cal.n_cells, n_codes)
    else:
        q = sparse.csr_matrix((values, (cal.cell, design.cluster)), shape=(cal.n_cells, n_codes))
    cal.cache["cluster_matrix"] = q
    return q


def stratum_sums(
    design: SurveyDesign,
    entry_group: IntArray,
    entry_cluster: IntArray,
    values: FloatArray,
    n_groups: int,
    adjustment: FloatArray | None,
) -> tuple[FloatArray, FloatArray]:
    """Centred and uncentred sums of squares of cluster totals per (group, stratum).

    ``entry_group``/``entry_cluster`` must be unique pairs sorted by group. Clusters of a
    stratum that a group does not touch have a total of 0 (as R pads them with zeros).

    A cluster code standing for ``m`` PSUs (``design.cluster_size``) with total ``T`` is
    ``m`` PSUs of total ``T / m``: it adds ``m`` to the stratum's PSUs, ``(T - m mu)^2 / m``
    to the centred sum (``mu`` the stratum's mean PSU total) and ``T^2 / m`` to the
    uncentred one, exactly what its ``m`` written-out PSUs add.
    """
    h = design.n_strata
    n_psu = design.n_psu.astype(np.float64)
    if adjustment is None:
        stratum = design.cluster_stratum[entry_cluster]
        gh = entry_group * h + stratum
        size = design.cluster_size[entry_cluster].astype(np.float64)
        s1 = bincount_f(gh, weights=values, minlength=n_groups * h).reshape(n_groups, h)
        listed = bincount_f(gh, weights=size, minlength=n_groups * h).reshape(n_groups, h)
        centre = s1 / n_psu[None, :]
        dev = values - size * centre.ravel()[gh]
        ssc = bincount_f(gh, weights=dev * dev / size, minlength=n_groups * h)
        ssc = ssc.reshape(n_groups, h) + (n_psu[None, :] - listed) * centre * centre
        ssu = bincount_f(gh, weights=values * values / size, minlength=n_groups * h)
        return ssc, ssu.reshape(n_groups, h)
    q = cluster_matrix(design)
    if q.shape[0] <= _EXPANSION_MAX_CELLS:
        return _expanded_sums(design, entry_group, entry_cluster, values, n_groups, adjustment, q)
    return _dense_sums(design, entry_group, entry_cluster, values, n_groups, adjustment, q)


def _dense_sums(
    design: SurveyDesign,
    entry_group: IntArray,
    entry_cluster: IntArray,
    values: FloatArray,
    n_groups: int,
    adjustment: FloatArray,
    q: FloatArray | sparse.csr_matrix,
) -> tuple[FloatArray, FloatArray]:
    """Calibrated sums of squares from dense blocks of (group x cluster) totals."""
    h = design.n_strata
    n_psu = design.n_psu.astype(np.float64)
    n_clusters = design.n_codes
    starts = design.cluster_starts()
    per_stratum = design.codes_per_stratum()
    size = design.cluster_size.astype(np.float64)
    block = max(1, _BLOCK_CELLS // max(n_clusters, 1))
    ssc = np.empty((n_groups, h))
    ssu = np.empty((n_groups, h))
    bounds = np.searchsorted(entry_group, np.arange(0, n_groups + block, block))
    for b, g0 in enumerate(range(0, n_groups, block)):
        g1 = min(g0 + block, n_groups)
        lo, hi = bounds[b], bounds[b + 1]
        if isinstance(q, np.ndarray):
            totals = -(adjustment[g0:g1] @ q)
        else:
            totals = -np.asarray(q.T @ adjustment[g0:g1].T).T
        totals[entry_group[lo:hi] - g0, entry_cluster[lo:hi]] += values[lo:hi]
        s1 = np.add.reduceat(totals, starts, axis=1)
        centred = totals - np.repeat(s1 / n_psu[None, :], per_stratum, axis=1) * size
        ssc[g0:g1] = np.add.reduceat(centred * centred / size, starts, axis=1)
        ssu[g0:g1] = np.add.reduceat(totals * totals / size, starts, axis=1)
    return ssc, ssu


def _stratum_grams(
    design: SurveyDesign, q: FloatArray, starts: IntArray, bounds: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per-stratum cell totals of ``q`` and the Gram matrices ``Q_h M_h^-1 Q_h'`` (one small
    K x K matrix per stratum; ``M_h`` the PSUs of each cluster code, identity unless some
    code stands for several PSUs), computed once per calibrated design: they depend on the
    design only, not on the outcome or the domains. ``einsum`` rather than ``b @ b.T``: with
    thousands of clusters (push responses, each its own cluster) the threaded BLAS call took
    0.2-1 s on a busy two-core server, the plain loop 0.01-0.1 s."""
    cal = design.calibration
    cached = cal.cache.get("stratum_grams") if cal is not None else None
    if cached is not None:
        return cached  # type: ignore[return-value]
    q_strata = np.add.reduceat(q, starts, axis=1)
    scaled = q / design.cluster_size[None, :] if design.multiple else q
    grams = np.stack(
        [
            np.einsum(
                "kc,lc->kl", scaled[:, bounds[j] : bounds[j + 1]], q[:, bounds[j] : bounds[j + 1]]
            )
            for j in range(starts.size)
        ]
    )
    if cal is not None:
        cal.cache["stratum_grams"] = (q_strata, grams)
    return q_strata, grams


def _stratum_products(
    design: SurveyDesign,
    q: FloatArray | sparse.csr_matrix,
    by_stratum: sparse.csr_matrix,
    entry_cluster: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``sum_c u_gc q_kc`` per (group, stratum), ``Q`` summed per stratum, and the Gram
    matrix ``Q_h Q_h'`` of every stratum (dense ``q``, or sparse for very many clusters)."""
    h = design.n_strata
    n_codes = design.n_codes
    starts = design.cluster_starts()
    bounds = np.concatenate([starts, [n_codes]])
    if isinstance(q, np.ndarray):
        uq = np.asarray(by_stratum @ q[:, entry_cluster].T)
        q_strata, grams = _stratum_grams(design, q, starts, bounds)
        return uq, q_strata, grams
    # very many clusters (e.g. every respondent its own cluster)
    q_csc = q.tocsc()
    uq = (by_stratum @ q_csc[:, entry_cluster].T).toarray()
    indicator = sparse.csr_matrix(
        (np.ones(n_codes), (np.arange(n_codes), design.cluster_stratum)), shape=(n_codes, h)
    )
    q_strata = (q_csc @ indicator).toarray()
    inverse = sparse.diags(1.0 / design.cluster_size.astype(np.float64))
    scaled = (q_csc @ inverse).tocsc()
    grams = np.stack(
        [
            (scaled[:, bounds[j] : bounds[j + 1]] @ q_csc[:, bounds[j] : bounds[j + 1]].T).toarray()
            for j in range(h)
        ]
    )
    return uq, q_strata, grams


def _expanded_sums(
    design: SurveyDesign,
    entry_group: IntArray,
    entry_cluster: IntArray,
    values: FloatArray,
    n_groups: int,
    adjustment: FloatArray,
    q: FloatArray | sparse.csr_matrix,
) -> tuple[FloatArray, FloatArray]:
    """Calibrated sums of squares without forming (group x cluster) totals.

    The total of group g in cluster c is ``u_gc - v_gc`` with ``v_gc = adj_g . q_c``, so
    per stratum ``sum (u - v)^2 = sum u^2 - 2 sum u v + adj_g G_h adj_g'`` with the Gram
    matrix ``G_h = Q_h Q_h'`` of the stratum's cells. This costs (entries + groups x
    strata) x cells instead of groups x clusters. Where the three terms nearly cancel
    (relative size below 1e-6) the group is recomputed from dense totals. A cluster code
    of ``m`` PSUs enters every square divided by ``m`` (see :func:`stratum_sums`).
    """
    h = design.n_strata
    n_psu = design.n_psu.astype(np.float64)
    gh = entry_group * h + design.cluster_stratum[entry_cluster]
    size = n_groups * h
    per_psu = values / design.cluster_size[entry_cluster] if design.multiple else values
    u1 = bincount_f(gh, weights=values, minlength=size).reshape(n_groups, h)
    u2 = bincount_f(gh, weights=values * per_psu, minlength=size).reshape(n_groups, h)
    # sum_c u_gc v_gc = sum_k adj_gk * (sum_c u_gc q_kc), all (g, h, k) in one product
    n_cells = q.shape[0]
    by_stratum = sparse.csr_matrix(
        (per_psu, (gh, np.arange(values.size))), shape=(size, values.size)
    )
    uq, q_strata, grams = _stratum_products(design, q, by_stratum, entry_cluster)
    uv = np.einsum("ghk,gk->gh", uq.reshape(n_groups, h, n_cells), adjustment)
    s1 = u1 - adjustment @ q_strata
    stacked = grams.transpose(1, 0, 2).reshape(n_cells, h * n_cells)

    def quadratic(a: FloatArray) -> FloatArray:
        """``a_g G_h a_g'`` for every group and stratum in one matrix product."""
        product = (a @ stacked).reshape(n_groups, h, n_cells)
        return np.asarray(np.einsum("ghk,gk->gh", product, a), dtype=np.float64)

    vv = quadratic(adjustment)
    vv_size = quadratic(np.abs(adjustment))  # the same without sign cancellation
    ssu = u2 - 2.0 * uv + vv
    ssc = ssu - s1 * s1 / n_psu[None, :]
    scale = u2 + vv_size
    multi = (n_psu > 1)[None, :]
    shaky = (scale > 0) & ((ssu < 1e-6 * scale) | (multi & (ssc < 1e-6 * scale)))
    redo = np.flatnonzero(shaky.any(axis=1))
    if redo.size:
        pick = np.isin(entry_group, redo)
        remap = np.full(n_groups, -1, dtype=np.int64)
        remap[redo] = np.arange(redo.size)
        dense_c, dense_u = _dense_sums(
            design,
            remap[entry_group[pick]],
            entry_cluster[pick],
            values[pick],
            redo.size,
            adjustment[redo],
            q,
        )
        ssc[redo] = dense_c
        ssu[redo] = dense_u
    return np.maximum(ssc, 0.0), np.maximum(ssu, 0.0)


def combine_strata(
    design: SurveyDesign, ssc: FloatArray, ssu: FloatArray, present: FloatArray | None
) -> FloatArray:
    """Variance per group from per-stratum sums of squares, with the lonely-PSU rule.

    ``present`` (groups x strata, for ``"average"`` on uncalibrated designs) marks the
    strata where the group has responses; R averages over those.
    """
    n_psu = design.n_psu.astype(np.float64)
    f = design.fpc_factor
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_psu > 1, f * n_psu / np.maximum(n_psu - 1, 1), f)
    certain = f < 1e-7
    lonely = (n_psu == 1) & ~certain
    contrib = np.where(lonely[None, :], 0.0, ssc * scale[None, :])
    contrib[:, certain] = 0.0
    rule = design.lonely_psu
    if rule == "adjust":
        contrib = np.where(lonely[None, :], ssu * scale[None, :], contrib)
    if rule != "average" or not lonely.any():
        return np.asarray(contrib.sum(axis=1), dtype=np.float64)
    there = np.ones_like(contrib, dtype=bool) if present is None else present > 0
    ok = there & ~lonely[None, :]
    n_there = there.sum(axis=1)
    n_ok = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(ok, contrib, 0.0).sum(axis=1) * n_there / n_ok
    return np.where(n_ok > 0, total, np.nan)


def presence(
    design: SurveyDesign,
    entry_group: IntArray,
    entry_cluster: IntArray,
    n_groups: int,
    weights: FloatArray | None = None,
) -> FloatArray:
    """Count of listed entries (or of ``weights``) per (group, stratum)."""
    h = design.n_strata
    gh = entry_group * h + design.cluster_stratum[entry_cluster]
    return (
        bincount_f(gh, weights=weights, minlength=n_groups * h)
        .reshape(n_groups, h)
        .astype(np.float64)
    )


def domain_df(design: SurveyDesign, layout: Layout) -> FloatArray:
    """Clusters minus strata among the rows of each domain (missing outcomes included); a
    cluster code of ``m`` PSUs counts ``m`` clusters."""
    size = design.cluster_size[layout.entry_cluster].astype(np.float64)
    clusters = bincount_f(layout.entry_domain, weights=size, minlength=layout.n_domains)
    strata = presence(design, layout.entry_domain, layout.entry_cluster, layout.n_domains) > 0
    return np.asarray(clusters - strata.sum(axis=1), dtype=np.float64)


def answered_df(design: SurveyDesign, layout: Layout, sums: OutcomeSums) -> FloatArray:
    """Clusters minus strata among the clusters holding each domain's non-missing answers."""
    seen = (sums.entry_observed > 0).astype(np.float64)
    size = design.cluster_size[layout.entry_cluster]
    clusters = bincount_f(layout.entry_domain, weights=seen * size, minlength=layout.n_domains)
    strata = presence(design, layout.entry_domain, layout.entry_cluster, layout.n_domains, seen) > 0
    return np.asarray(clusters - strata.sum(axis=1), dtype=np.float64)


def svy_estimate(
    design: SurveyDesign,
    outcome: str,
    by: str | Sequence[str] | None = None,
    *,
    method: str | None = None,
    level: float = 0.95,
    zero_df: str = "none",
) -> pd.DataFrame:
    """Design-based estimate of a proportion or mean, overall or for every domain.

    Parameters
    ----------
    design : SurveyDesign
        From :func:`design_from_units` or :func:`design_from_aggregates`, optionally
        post-stratified, raked or trimmed.
    outcome : str
        Outcome column (aggregated designs: an outcome name given at construction). A
        column whose non-missing values are all 0 or 1 is a proportion; any other
        numeric column is a mean. Missing values are left out (available-case, R's
        ``na.rm=TRUE``) and counted in ``n_missing``.
    by : str or sequence of str, optional
        Grouping columns; every combination present in the data is a domain.
    method : {"logit", "beta", "mean"}, optional
        Interval method. Default ``"logit"`` for a proportion, ``"mean"`` for a mean;
        ``logit`` and ``beta`` need a 0/1 outcome.
    level : float, default 0.95
        Confidence level.
    zero_df : {"none", "design"}, default "none"
        What a domain whose own degrees of freedom are 0 (one cluster per stratum) gets:
        ``"none"``, no interval (R's ``svyciprop`` on the subset); ``"design"``, the interval
        with the whole design's degrees of freedom, as R's ``confint`` on a ``svyby`` does
        (its ``df`` column then holds the df used and ``note`` says so).

    Returns
    -------
    pandas.DataFrame
        One row per domain: the ``by`` columns, then ``n`` (non-missing responses),
        ``n_missing``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``df``,
        ``n_eff`` (``n / deff``) and ``note`` (empty, or why a value is missing or how
        an edge case was handled).

    Raises
    ------
    AnalysisError
        Unknown column or method, non-numeric outcome, logit/beta for a non-0/1 outcome.

    Notes
    -----
    Matches R's survey 4.1 ``svyby(~y, ~g, design, svyciprop, method=..., na.rm=TRUE)``
    (``xlogit`` for ``logit``) and ``svymean(..., deff=TRUE)``: the design effect is the
    variance over ``var_SRS = s^2 (N - n) / (N n)`` with ``N`` the weight total of the
    domain, as R's default ``deff=TRUE``. The degrees of freedom count the domain's
    clusters and strata including rows whose outcome is missing. For ``beta``, the
    effective-n correction uses ``nrow(design)`` as R does: the domain's rows for an
    uncalibrated design, all rows for a calibrated one (R keeps every row in a subset of
    a calibrated design).

    Groups that cannot be estimated keep a row, with NaN where a value is undefined and
    the reason in ``note``: no non-missing responses (no estimate, SE or design effect);
    df 0 (one cluster); SE 0 while responses differ and all of them lie in one cluster
    per stratum (the group's other clusters hold only missing answers), reported as not
    estimable rather than as R's zero-width interval.

    An SE that is truly 0 while responses differ (answers in more clusters than strata,
    e.g. an outcome fixed by the post-stratification cells, or clusters with identical
    totals) is reported as 0 with a design effect of 0 and R's zero-width interval for
    every method, and a note; R leaves round-off (about 1e-17) there.

    A proportion of exactly 0 or 1 in a group has SE 0 and an undefined design effect.
    R's ``logit`` and ``beta`` intervals are NaN there; we return the Korn-Graubard
    (Clopper-Pearson) interval with ``n_eff`` = the group's responses, corrected by
    ``(t_{n-1} / t_df)^2`` like ``beta``, and say so in ``note``; ``mean`` keeps R's
    zero-width interval. ``n_eff`` is NaN wherever the interval is.

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. J. Stat. Software 9(8).
    Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
    small expected number of positive counts estimated from survey data. Survey
    Methodology 24, 193-201.
    """
    results = estimate_many(design, [outcome], by, method=method, level=level, zero_df=zero_df)
    return results[0]


def svy_estimates(
    design: SurveyDesign,
    outcomes: Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    method: str | Mapping[str, str | None] | None = None,
    level: float = 0.95,
    zero_df: str = "none",
) -> dict[str, pd.DataFrame]:
    """:func:`svy_estimate` of several outcomes by the same groups, in one pass.

    The domains of ``by`` and their (domain, cluster) cells are formed once and shared by
    every outcome, so asking for four outcomes costs little more than asking for one.
    The result of each outcome is exactly (bit for bit) what :func:`svy_estimate` returns.

    Parameters
    ----------
    design : SurveyDesign
    outcomes : sequence of str
        Outcome columns (aggregated designs: outcome names), each estimated once.
    by : str or sequence of str, optional
        Grouping columns, as in :func:`svy_estimate`.
    method : str, or mapping of outcome to str or None, optional
        Interval method for every outcome, or per outcome (an outcome missing from the
        mapping, or mapped to None, gets the default: ``"logit"`` for a 0/1 outcome,
        ``"mean"`` otherwise).
    level : float, default 0.95
    zero_df : {"none", "design"}, default "none"
        As in :func:`svy_estimate`.

    Returns
    -------
    dict
        Outcome name to its result frame (the columns of :func:`svy_estimate`), in the
        order of ``outcomes``.

    Raises
    ------
    AnalysisError
        As :func:`svy_estimate`; also for an empty or repeated outcome list.
    """
    names = [str(o) for o in ([outcomes] if isinstance(outcomes, str) else outcomes)]
    if not names:
        raise AnalysisError("no outcomes to estimate")
    if len(set(names)) != len(names):
        raise AnalysisError("an outcome is listed twice")
    methods = _methods_by_outcome(names, method)
    frames = estimate_many(design, names, by, method=methods, level=level, zero_df=zero_df)
    return dict(zip(names, frames, strict=True))


def _methods_by_outcome(
    outcomes: Sequence[str], method: str | Mapping[str, str | None] | None
) -> dict[str, str | None]:
    if method is None or isinstance(method, str):
        chosen = {o: method for o in outcomes}
    else:
        unknown = [str(k) for k in method if k not in outcomes]
        if unknown:
            raise AnalysisError(f"method given for an outcome not asked for: {unknown[0]!r}")
        chosen = {o: method.get(o) for o in outcomes}
    for value in chosen.values():
        if value is not None:
            check_choice(value, DESIGN_METHODS, "method")
    return chosen


def estimate_many(
    design: SurveyDesign,
    outcomes: Sequence[str],
    by: str | Sequence[str] | None,
    *,
    method: str | Mapping[str, str | None] | None,
    level: float,
    zero_df: str = "none",
) -> list[pd.DataFrame]:
    """:func:`svy_estimate` for several outcomes sharing one domain layout."""
    methods = _methods_by_outcome(outcomes, method)
    level = check_level(level)
    check_choice(zero_df, ZERO_DF_RULES, "zero_df")
    by_list = as_name_list(by)
    layout = build_layout(design, by_list)
    df = domain_df(design, layout)
    own_df_zero = np.zeros(df.size, dtype=bool)
    if zero_df == "design" and design.df > 0:
        own_df_zero = df <= 0
        df = np.where(own_df_zero, float(design.df), df)
    frames = []
    for outcome in outcomes:
        sums = outcome_sums(design, layout, outcome)
        chosen = methods[outcome] or ("logit" if sums.proportion else "mean")
        if chosen != "mean" and not sums.proportion:
            raise AnalysisError(
                f"method {chosen!r} needs a 0/1 outcome; {outcome!r} has other values"
                " (use method 'mean')"
            )
        frame = _finish(design, layout, sums, df, chosen, level)
        if own_df_zero.any():
            note = frame["note"].to_numpy(dtype=object)
            mark = own_df_zero & (frame["n"].to_numpy() > 0)
            note[mark] = np.where(
                note[mark] == "", NOTE_DESIGN_DF, note[mark] + "; " + NOTE_DESIGN_DF
            )
            frame["note"] = note.tolist()
        frames.append(frame)
    return frames


def domain_variance(design: SurveyDesign, layout: Layout, sums: OutcomeSums) -> FloatArray:
    """Linearisation variance of each domain mean."""
    ssc, ssu = stratum_sums(
        design,
        layout.entry_domain,
        layout.entry_cluster,
        sums.entry_influence,
        layout.n_domains,
        sums.adjustment,
    )
    present = None
    if design.lonely_psu == "average" and design.calibration is None:
        present = presence(
            design,
            layout.entry_domain,
            layout.entry_cluster,
            layout.n_domains,
            sums.entry_observed,
        )
    return combine_strata(design, ssc, ssu, present)


def _finish(
    design: SurveyDesign,
    layout: Layout,
    sums: OutcomeSums,
    df: FloatArray,
    method: str,
    level: float,
) -> pd.DataFrame:
    var = domain_variance(design, layout, sums)
    # a domain without answers has no estimate, hence no SE (its influence values are 0)
    se = np.where(sums.n > 0, np.sqrt(var), np.nan)
    n = sums.n
    w_sum = sums.weight_sum
    if design.calibration is None:
        n_rows_beta = n + sums.n_missing
    else:
        n_rows_beta = np.full(n.size, design.n_rows)
    answered = df  # only a zero SE with differing responses needs the clusters that answered
    if np.any(is_zero_se(se, sums.spread, n) & (sums.spread > 0)):
        answered = answered_df(design, layout, sums)
    low, high, notes = design_intervals(
        sums.mean,
        se,
        df,
        n,
        n_rows_beta,
        sums.spread,
        answered,
        method=method,
        level=level,
        proportion=sums.proportion,
    )
    # a truly zero SE is reported as 0, not as the round-off (1e-17) left in its sum
    zero = np.asarray(notes) == NOTE_SE_ZERO
    se = np.where(zero, 0.0, se)
    var = np.where(zero, 0.0, var)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = sums.spread * n / (n - 1)
        v_srs = s2 * (w_sum - n) / (w_sum * n)
        deff = np.where((w_sum >= n) & (n > 1) & (v_srs > 0), var / v_srs, np.nan)
        n_eff = np.where(np.isfinite(low) & (deff > 0), n / deff, np.nan)
    bad_deff = (w_sum < n) & (n > 0)
    notes = np.where((np.asarray(notes) == "") & bad_deff, NOTE_DEFF, notes).tolist()
    columns: dict[Hashable, object] = {c: layout.levels[c] for c in layout.levels.columns}
    columns.update(
        n=n.astype(np.int64),
        n_missing=sums.n_missing.astype(np.int64),
        estimate=sums.mean,
        se=se,
        ci_low=low,
        ci_high=high,
        deff=deff,
        df=df.astype(np.int64),
        n_eff=n_eff,
        note=notes,
    )
    return pd.DataFrame(columns, index=layout.levels.index)
