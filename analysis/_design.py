"""Survey designs: strata, clusters and weights, from unit rows or aggregated rows.

A :class:`SurveyDesign` is the with-replacement, ultimate-cluster design of R's
``svydesign(ids=~psu, strata=~stratum, weights=~w)``: clusters (primary sampling units,
here collection points) are nested in strata (districts), and the variance of a
linearised statistic is the sum over strata of the between-cluster variance of its
cluster totals.

It is built either from unit-level rows (:func:`design_from_units`) or from aggregated
sufficient statistics (:func:`design_from_aggregates`): one row per (group columns,
stratum, cluster, weighting cell) with the number of rows ``n`` and, for each outcome,
the sum and the sum of squares of its values. The web application computes those with
``GROUP BY`` in SQL; both forms give the same estimates, standard errors, intervals and
design effects. Internally a unit row is simply an aggregated row with ``n = 1``.

An aggregated row may also stand for several identical PSUs (``psus=`` of
:func:`design_from_aggregates`): a row with multiplicity ``m`` is ``m`` clusters of the
stratum, each holding ``1/m`` of the row's respondents and sums. Every estimate, standard
error, design effect and degrees of freedom is then the one of the same data written out as
``m`` rows, each its own cluster, while the memory stays that of one row (push responses,
each its own PSU, are stored this way: ``survey.reporting.push``).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Final
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._errors import AnalysisError
from analysis._errors import NotEstimableError
from analysis._validation import as_name_list
from analysis._validation import check_choice
from analysis._validation import check_columns
from analysis._validation import no_missing
from analysis._validation import nonnegative_counts
from analysis._validation import numeric_column
from analysis._validation import positive_weights

__all__ = [
    "DEFAULT_LONELY_PSU",
    "LONELY_PSU_RULES",
    "AggregateOutcome",
    "Calibration",
    "SurveyDesign",
    "aggregate_units",
    "design_from_aggregates",
    "design_from_units",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Rules for strata with a single cluster, as R's ``options(survey.lonely.psu=)``.
LONELY_PSU_RULES: Final[tuple[str, ...]] = ("adjust", "average", "certainty", "fail", "remove")

#: The default rule. R's default is ``"fail"``; a dashboard cannot stop because one district
#: had a single collection point in a week, and ``"certainty"`` would silently report that
#: stratum as having no sampling variance. ``"adjust"`` centres the lone cluster at the
#: grand mean instead of its stratum mean, which is conservative (it never gives a smaller
#: variance than treating the stratum as certain).
DEFAULT_LONELY_PSU: Final = "adjust"

# Above this many (domain x cluster) cells a hash table replaces a dense bincount.
DENSE_CELLS_LIMIT: Final = 40_000_000
#: ... and so it does when the cells outnumber the rows this many times: a dense table is
#: then mostly empty, and its size grows with the product of the columns' sizes instead of
#: the rows (push responses, each its own cluster, across strata and domains).
DENSE_CELLS_PER_ROW: Final = 8


def dense_cells(total: int, n: int) -> bool:
    """Whether ``total`` combinations of ``n`` rows are counted in a dense table."""
    return total <= DENSE_CELLS_LIMIT and total <= DENSE_CELLS_PER_ROW * n + 4096


class AggregateOutcome(NamedTuple):
    """Columns of an aggregated frame that carry one outcome.

    Attributes
    ----------
    sum : str
        Column with the sum of the outcome over the rows of the aggregated row.
    sum_sq : str
        Column with the sum of the squared outcome (needed for the design effect).
    n_obs : str or None
        Column with the number of rows whose outcome is not missing; ``None`` when the
        outcome has no missing values (then the row count ``n`` is used).
    """

    sum: str
    sum_sq: str
    n_obs: str | None = None


@dataclass(frozen=True, eq=False)
class Calibration:
    """Post-stratification or raking applied to a design (internal state).

    Weights are ``base_weight * factor[cell]``. ``steps`` holds, for raking, the margin of
    each step (level code of every cell, number of levels) and the cumulative cell factor
    right after that step in the final iteration: R's ``rake`` keeps exactly these for its
    variance, which uses 10 passes of residual adjustment over the margins.
    """

    method: str
    cell: IntArray
    n_cells: int
    base_total: FloatArray
    rows: FloatArray
    factor: FloatArray
    steps: tuple[tuple[IntArray, int, FloatArray], ...]
    report: pd.DataFrame
    iterations: int = 0
    cache: dict[str, object] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified cluster design with weights (build it with ``design_from_*``).

    Attributes
    ----------
    data : pandas.DataFrame
        The rows (unit-level or aggregated) with group, cell and outcome columns.
    aggregated : bool
        Whether ``data`` holds aggregated sufficient statistics.
    rows : ndarray
        Number of respondents each row stands for (1 for unit-level data).
    base_weight, weight : ndarray
        Design weight before calibration and final weight, per respondent of each row.
    cluster : ndarray of int
        Cluster code of each row; clusters are numbered stratum by stratum.
    cluster_stratum : ndarray of int
        Stratum code of each cluster code.
    cluster_size : ndarray of int
        Number of identical PSUs each cluster code stands for (1 unless built with
        ``psus=``): cluster code ``c`` is ``cluster_size[c]`` PSUs, each with
        ``1 / cluster_size[c]`` of the code's totals.
    n_psu : ndarray of int
        Number of PSUs in each stratum (the sum of ``cluster_size`` over its codes).
    fpc_factor : ndarray
        ``(N_h - n_h) / N_h`` per stratum, or 1 without a finite-population correction.
    strata_levels : pandas.Index
        Stratum labels by code.
    lonely_psu : str
        Rule for single-cluster strata, one of :data:`LONELY_PSU_RULES`.
    outcomes : mapping
        For aggregated data: outcome name to its :class:`AggregateOutcome` columns.
    calibration : Calibration or None
        Post-stratification or raking, if any.
    trimmed : bool
        Whether weights were trimmed after calibration.
    design_columns : tuple of str
        Columns that define the design (strata, cluster, weight, counts).
    cache : dict
        Internal: outcome arrays read from ``data`` (valid because ``data`` is never
        modified; a design made by :meth:`replace_weights` starts with an empty cache).
    """

    data: pd.DataFrame
    aggregated: bool
    rows: FloatArray
    base_weight: FloatArray
    weight: FloatArray
    cluster: IntArray
    cluster_stratum: IntArray
    cluster_size: IntArray
    n_psu: IntArray
    fpc_factor: FloatArray
    strata_levels: pd.Index
    lonely_psu: str
    outcomes: Mapping[str, AggregateOutcome] = field(default_factory=dict)
    calibration: Calibration | None = None
    trimmed: bool = False
    design_columns: tuple[str, ...] = ()
    cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (PSUs) in the design; a cluster code standing for ``m`` PSUs
        counts ``m`` times (as R counts the PSUs of the written-out data)."""
        return int(self.n_psu.sum())

    @property
    def n_codes(self) -> int:
        """Number of cluster codes (the length of every per-cluster array)."""
        return int(self.cluster_stratum.size)

    @property
    def multiple(self) -> bool:
        """Whether some cluster code stands for more than one PSU."""
        return bool(self.n_codes != self.n_clusters)

    def codes_per_stratum(self) -> IntArray:
        """Number of cluster codes in each stratum."""
        return np.bincount(self.cluster_stratum, minlength=self.n_strata).astype(np.int64)

    @property
    def n_strata(self) -> int:
        """Number of strata in the design."""
        return int(self.n_psu.size)

    @property
    def n_rows(self) -> float:
        """Number of respondents (sum of ``rows``)."""
        return float(self.rows.sum())

    @property
    def df(self) -> int:
        """Design degrees of freedom: clusters (PSUs) minus strata."""
        return self.n_clusters - self.n_strata

    @property
    def calibrated(self) -> bool:
        """Whether weights were post-stratified or raked."""
        return self.calibration is not None

    def cluster_starts(self) -> IntArray:
        """Index of the first cluster code of each stratum (codes are stratum-contiguous)."""
        return np.concatenate(([0], np.cumsum(self.codes_per_stratum())[:-1])).astype(np.int64)

    def outcome_arrays(
        self, outcome: str
    ) -> tuple[FloatArray, FloatArray | None, IntArray, FloatArray]:
        """Per row: the sum of ``outcome`` and its sum of squares (``None`` for unit rows,
        where it is the square of the value), then the rows that have missing values and
        how many missing values each has (missing values contribute 0 to the sums).

        Raises
        ------
        AnalysisError
            If the outcome is unknown or not numeric.
        """
        key = f"outcome:{outcome}"
        cached = self.cache.get(key)
        if cached is None:
            cached = self._outcome_arrays(outcome)
            self.cache[key] = cached
        return cached  # type: ignore[return-value]

    def _outcome_arrays(
        self, outcome: str
    ) -> tuple[FloatArray, FloatArray | None, IntArray, FloatArray]:
        if self.aggregated:
            spec = self.outcomes.get(outcome)
            if spec is None:
                known = ", ".join(self.outcomes) or "none"
                raise AnalysisError(
                    f"unknown outcome {outcome!r} in aggregated data (outcomes: {known})"
                )
            total = numeric_column(self.data, spec.sum, "outcome sum")
            total_sq = numeric_column(self.data, spec.sum_sq, "outcome sum of squares")
            if not (np.isfinite(total).all() and np.isfinite(total_sq).all()):
                raise AnalysisError(f"outcome sums for {outcome!r} must be finite")
            if spec.n_obs is None:
                return total, total_sq, np.zeros(0, dtype=np.int64), np.zeros(0)
            n_obs = nonnegative_counts(numeric_column(self.data, spec.n_obs, "count"), spec.n_obs)
            if np.any(n_obs > self.rows):
                raise AnalysisError(f"column {spec.n_obs!r} exceeds the row count")
            gap = self.rows - n_obs
            index = np.flatnonzero(gap)
            return total, total_sq, index, gap[index]
        check_columns(self.data, [outcome])
        if outcome in self.design_columns:
            raise AnalysisError(f"column {outcome!r} defines the design; it is not an outcome")
        values = numeric_column(self.data, outcome, "outcome")
        index = np.flatnonzero(np.isnan(values))
        filled = values
        if index.size:
            filled = values.copy()
            filled[index] = 0.0
        return filled, None, index, np.ones(index.size)

    def replace_weights(self, **changes: object) -> SurveyDesign:
        """Return a copy with some attributes replaced (used by the weighting functions)."""
        from dataclasses import replace

        return replace(self, **changes, cache={})  # type: ignore[arg-type]


def raw_codes(values: pd.Series) -> tuple[IntArray, pd.Index]:
    """Like :func:`codes_of`, but integer columns are coded by offset without dropping
    unused values from the labels (cheaper; callers combine and compress codes)."""
    dtype = values.dtype
    if pd.api.types.is_integer_dtype(dtype) and not values.hasnans and len(values):
        raw = values.to_numpy()
        low, high = int(raw.min()), int(raw.max())
        if high - low < (1 << 20):
            codes = raw.astype(np.int64) if low == 0 else raw.astype(np.int64) - low
            return codes, pd.Index(np.arange(low, high + 1))
    return codes_of(values)


def codes_of(values: pd.Series) -> tuple[IntArray, pd.Index]:
    """Integer codes (0..k-1, -1 for missing) and sorted labels of a column.

    Categorical columns use their categories; integer columns with a compact range are
    coded by offset (no hashing, which matters for ten million rows); anything else is
    factorised.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat_codes = values.cat.codes.to_numpy().astype(np.int64)
        used = np.unique(cat_codes[cat_codes >= 0])
        lut = np.full(len(values.cat.categories) + 1, -1, dtype=np.int64)
        lut[used] = np.arange(used.size)
        return lut[cat_codes], pd.Index(values.cat.categories[used])
    if pd.api.types.is_integer_dtype(dtype) and not values.hasnans and len(values):
        raw = values.to_numpy(dtype=np.int64)
        low, high = int(raw.min()), int(raw.max())
        span = high - low + 1
        if span <= max(1 << 20, 4 * raw.size):
            shifted = raw - low
            present = np.bincount(shifted, minlength=span) > 0
            lut = np.cumsum(present) - 1
            levels = np.flatnonzero(present) + low
            return lut[shifted].astype(np.int64), pd.Index(levels)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def combine_codes(
    codes: Sequence[IntArray], sizes: Sequence[int]
) -> tuple[IntArray, int, IntArray, IntArray]:
    """Combine per-column codes into one code per observed combination.

    Returns the combined code of each row (``-1`` when any part is missing), the number of
    observed combinations, for each combination its code in every column (an array of
    shape (combinations, columns)), and the number of rows of each combination.
    Combinations are ordered with the first column varying slowest.
    """
    if not codes:
        raise AnalysisError("internal: no codes to combine")
    n = codes[0].size
    negative = [c for c in codes if c.size and int(c.min()) < 0]
    missing: npt.NDArray[np.bool_] | None = None
    for c in negative:
        missing = (c < 0) if missing is None else (missing | (c < 0))
    radices = [max(int(s), 1) for s in sizes]
    total = 1
    for r in radices:
        total *= r
    if dense_cells(total, n):
        combined = codes[0].astype(np.int64, copy=True)
        for c, r in zip(codes[1:], radices[1:], strict=True):
            combined *= r
            combined += c
        if missing is not None:
            combined[missing] = total
        counts = np.bincount(combined, minlength=total + 1)[:total]
        observed = np.flatnonzero(counts)
        parts = np.array(np.unravel_index(observed, radices)).T
        if observed.size == total:  # every combination occurs: codes are already compact
            if missing is not None:
                combined[missing] = -1
            compact = combined
        else:
            lut = np.full(total + 1, -1, dtype=np.int64)
            lut[observed] = np.arange(observed.size)
            compact = lut[combined]
        return (
            compact,
            int(observed.size),
            parts.astype(np.int64).reshape(-1, len(codes)),
            counts[observed].astype(np.int64),
        )
    frame = pd.DataFrame({i: c for i, c in enumerate(codes)})
    if missing is not None:
        frame = frame[~missing]
    sizes_by_key = frame.groupby(list(frame.columns), sort=True).size()
    index = sizes_by_key.index
    if not isinstance(index, pd.MultiIndex):
        index = pd.MultiIndex.from_arrays([index])
    out = np.full(n, -1, dtype=np.int64)
    positions = index.get_indexer(pd.MultiIndex.from_frame(frame))
    if missing is None:
        out[:] = positions
    else:
        out[~missing] = positions
    keys = np.array([index.get_level_values(i) for i in range(len(codes))]).T
    return out, len(index), keys.astype(np.int64), sizes_by_key.to_numpy(dtype=np.int64)


class DesignParts(NamedTuple):
    """Clusters and strata of a design, as :func:`_design_parts` finds them."""

    cluster: IntArray
    cluster_stratum: IntArray
    cluster_size: IntArray
    n_psu: IntArray
    fpc_factor: FloatArray
    strata_levels: pd.Index


def _cluster_codes(
    data: pd.DataFrame, strata: str | None, psu: str | None
) -> tuple[IntArray, IntArray, IntArray, pd.Index]:
    """Cluster code of each row (stratum-contiguous), stratum of each cluster code, stratum
    code of each row and the stratum labels."""
    n = len(data)
    if strata is None:
        s_codes, s_levels = np.zeros(n, dtype=np.int64), pd.Index(["all"])
    else:
        s_codes, s_levels = raw_codes(data[strata])
    if psu is None:
        p_codes, p_size = np.arange(n, dtype=np.int64), n
    else:
        p_raw, p_levels = raw_codes(data[psu])
        p_codes, p_size = p_raw, len(p_levels)
    # Clusters are (stratum, psu) pairs: a psu label reused in two strata is two clusters.
    cluster, _, parts, _ = combine_codes([s_codes, p_codes], [len(s_levels), p_size])
    used = np.unique(parts[:, 0])
    cluster_stratum = np.searchsorted(used, parts[:, 0]).astype(np.int64)
    return cluster, cluster_stratum, s_codes, pd.Index(s_levels[used])


def _cluster_sizes(
    cluster: IntArray, n_codes: int, multiplicity: IntArray | None, psus: str | None
) -> IntArray:
    """PSUs per cluster code: the multiplicity of a row that is its own cluster, else 1."""
    size = np.ones(n_codes, dtype=np.int64)
    if multiplicity is None:
        return size
    many = multiplicity > 1
    if not many.any():
        return size
    rows_per_code = np.bincount(cluster, minlength=n_codes)
    shared = rows_per_code[cluster[many]] > 1
    if shared.any():
        first = int(np.flatnonzero(many)[np.flatnonzero(shared)[0]])
        raise AnalysisError(
            f"a row standing for several PSUs ({psus!r} > 1) must be its own cluster: row"
            f" {first} (counting from 0) shares its psu label with another row of its stratum"
        )
    size[cluster[many]] = multiplicity[many]
    return size


def _design_parts(
    data: pd.DataFrame,
    strata: str | None,
    psu: str | None,
    fpc: str | None,
    lonely_psu: str,
    multiplicity: IntArray | None = None,
    psus: str | None = None,
) -> DesignParts:
    """Cluster codes (stratum-contiguous), stratum and PSUs of each cluster code, PSUs per
    stratum, fpc factor per stratum and stratum labels."""
    cluster, cluster_stratum, s_codes, s_levels = _cluster_codes(data, strata, psu)
    cluster_size = _cluster_sizes(cluster, cluster_stratum.size, multiplicity, psus)
    n_psu = np.bincount(cluster_stratum, weights=cluster_size, minlength=len(s_levels))
    n_psu = n_psu.astype(np.int64)
    if fpc is None:
        fpc_factor = np.ones(len(s_levels))
    else:
        pop = numeric_column(data, fpc, "fpc")
        per_stratum = pd.Series(pop).groupby(s_codes).agg(["min", "max"])
        if (per_stratum["min"] != per_stratum["max"]).any():
            raise AnalysisError(f"fpc column {fpc!r} must be constant within each stratum")
        pop_h = per_stratum["max"].to_numpy()
        if not np.all(np.isfinite(pop_h)) or np.any(pop_h < n_psu):
            raise AnalysisError(
                f"fpc column {fpc!r} must give, per stratum, a number of clusters at least"
                " as large as the number sampled"
            )
        fpc_factor = (pop_h - n_psu) / pop_h
    if lonely_psu == "fail" and np.any(n_psu == 1):
        lonely = [str(s_levels[i]) for i in np.flatnonzero(n_psu == 1)]
        raise NotEstimableError(
            f"stratum {', '.join(lonely)} has only one cluster (lonely_psu='fail');"
            f" choose another rule among {', '.join(LONELY_PSU_RULES)}"
        )
    return DesignParts(cluster, cluster_stratum, cluster_size, n_psu, fpc_factor, s_levels)


def _multiplicity(
    data: pd.DataFrame, psus: str | None, rows: FloatArray, n: str
) -> IntArray | None:
    """The PSUs each row stands for (``None`` without a ``psus`` column), checked."""
    if psus is None:
        return None
    values = numeric_column(data, psus, "PSU multiplicity")
    bad = ~np.isfinite(values) | (values < 1) | (values != np.floor(values))
    if bad.any():
        raise AnalysisError(f"PSU multiplicity column {psus!r} must hold whole numbers >= 1")
    multiplicity = values.astype(np.int64)
    uneven = np.flatnonzero(np.fmod(rows, values) != 0)
    if uneven.size:
        raise AnalysisError(
            f"count column {n!r} must be divisible by the PSU multiplicity {psus!r} (each PSU"
            f" of a row holds the same number of respondents); row {int(uneven[0])} is not"
        )
    return multiplicity


def design_from_units(
    data: pd.DataFrame,
    *,
    strata: str | None = None,
    psu: str | None = None,
    weights: str | None = None,
    fpc: str | None = None,
    lonely_psu: str = DEFAULT_LONELY_PSU,
) -> SurveyDesign:
    """Build a design from one row per respondent.

    Parameters
    ----------
    data : pandas.DataFrame
        Unit-level rows with the design columns, group columns and outcomes.
    strata : str, optional
        Stratum column (e.g. district). Without it the design has one stratum.
    psu : str, optional
        Cluster column (collection point). Without it every row is its own cluster.
        Clusters are nested in strata: the same label in two strata is two clusters.
    weights : str, optional
        Sampling weight column (finite, > 0). Without it every weight is 1.
    fpc : str, optional
        Number of clusters in the population of each stratum, for a finite-population
        correction. Off by default (with-replacement variance, as R without ``fpc``).
    lonely_psu : {"adjust", "average", "certainty", "fail", "remove"}
        Rule for strata with a single cluster, as R's ``options(survey.lonely.psu)``.
        The default ``"adjust"`` (see :data:`DEFAULT_LONELY_PSU`). ``"fail"`` raises
        :class:`NotEstimableError` here, when the design is built, rather than at the
        first estimate that touches the stratum as R does.

    Returns
    -------
    SurveyDesign

    Raises
    ------
    AnalysisError
        On unknown columns, non-numeric or non-positive weights, missing design values.
    """
    check_choice(lonely_psu, LONELY_PSU_RULES, "lonely_psu rule")
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError("data must be a pandas DataFrame")
    design_cols = [c for c in (strata, psu, weights, fpc) if c is not None]
    check_columns(data, design_cols)
    no_missing(data, [c for c in (strata, psu) if c is not None], "design")
    if len(data) == 0:
        raise AnalysisError("data has no rows")
    if weights is None:
        w = np.ones(len(data))
    else:
        w = positive_weights(numeric_column(data, weights, "weights"), weights)
    parts = _design_parts(data, strata, psu, fpc, lonely_psu)
    return SurveyDesign(
        data=data,
        aggregated=False,
        rows=np.ones(len(data)),
        base_weight=w,
        weight=w,
        **parts._asdict(),
        lonely_psu=lonely_psu,
        design_columns=tuple(design_cols),
    )


def design_from_aggregates(
    data: pd.DataFrame,
    *,
    psu: str,
    weights: str,
    strata: str | None = None,
    n: str = "n",
    outcomes: Mapping[str, AggregateOutcome | tuple[str, ...]] | None = None,
    fpc: str | None = None,
    lonely_psu: str = DEFAULT_LONELY_PSU,
    psus: str | None = None,
) -> SurveyDesign:
    """Build a design from aggregated sufficient statistics.

    Each row stands for the respondents of one (group columns..., stratum, cluster,
    weighting cell) combination, whose weights must be equal. This is what a SQL
    ``GROUP BY`` returns; for example::

        SELECT district, channel, week, point, cell, weight,
               COUNT(*) AS n, COUNT(aware) AS aware_n,
               SUM(aware) AS aware_sum, SUM(aware * aware) AS aware_sum2
        FROM responses GROUP BY district, channel, week, point, cell, weight

    Parameters
    ----------
    data : pandas.DataFrame
        One row per combination, with the group and cell columns needed later.
    psu : str
        Cluster column. Required: the variance is computed from cluster totals.
    weights : str
        Weight of each respondent of the row (finite, > 0).
    strata : str, optional
        Stratum column.
    n : str, default "n"
        Number of respondents in the row, including those whose outcome is missing
        (they count in the weighting and in a domain's degrees of freedom).
    outcomes : mapping, optional
        Outcome name to :class:`AggregateOutcome` (sum, sum of squares, non-missing
        count). Defaults to ``{"y": AggregateOutcome("sum_y", "sum_y2")}``.
    fpc, lonely_psu
        As in :func:`design_from_units`. With ``psus``, ``fpc`` and the lonely-PSU rule
        count PSUs: a stratum whose only row stands for 5 PSUs is not lonely.
    psus : str, optional
        Column with the number of identical PSUs each row stands for (whole numbers >= 1;
        without it every row counts once, as before). A row with multiplicity ``m > 1``
        is ``m`` clusters of its stratum, each holding ``1/m`` of the row's respondents,
        missing values, sums and sums of squares (the row keeps the totals over its ``m``
        PSUs, as every aggregated row does). Such a row must be its own cluster (its
        ``psu`` label unique in its stratum) and its count ``n`` divisible by ``m``.
        Every result equals that of the data written out as ``m`` rows of ``n / m``
        respondents, each its own cluster, including ``n_clusters`` and ``df``.

    Returns
    -------
    SurveyDesign

    Raises
    ------
    AnalysisError
        On unknown columns, bad counts or weights, missing design values, or a ``psus``
        column that is not a whole number >= 1, is > 1 on a row sharing its cluster, or
        does not divide ``n``.
    """
    check_choice(lonely_psu, LONELY_PSU_RULES, "lonely_psu rule")
    if outcomes is None:
        outcomes = {"y": AggregateOutcome("sum_y", "sum_y2")}
    specs = {name: AggregateOutcome(*spec) for name, spec in outcomes.items()}
    design_cols = [c for c in (strata, psu, weights, n, fpc, psus) if c is not None]
    needed = list(design_cols)
    for spec in specs.values():
        needed += [c for c in spec if c is not None]
    check_columns(data, needed)
    no_missing(data, [c for c in (strata, psu) if c is not None], "design")
    if len(data) == 0:
        raise AnalysisError("data has no rows")
    rows = nonnegative_counts(numeric_column(data, n, "count"), n)
    if np.any(rows == 0):
        raise AnalysisError(f"count column {n!r} must be >= 1 on every row")
    w = positive_weights(numeric_column(data, weights, "weights"), weights)
    multiplicity = _multiplicity(data, psus, rows, n)
    parts = _design_parts(data, strata, psu, fpc, lonely_psu, multiplicity, psus)
    return SurveyDesign(
        data=data,
        aggregated=True,
        rows=rows,
        base_weight=w,
        weight=w,
        **parts._asdict(),
        lonely_psu=lonely_psu,
        outcomes=specs,
        design_columns=tuple(design_cols),
    )


def aggregate_units(
    data: pd.DataFrame,
    *,
    keys: Sequence[str],
    outcomes: Sequence[str],
    weights: str | None = None,
) -> tuple[pd.DataFrame, dict[str, AggregateOutcome]]:
    """Aggregate unit rows to the sufficient statistics :func:`design_from_aggregates` reads.

    This is the pandas equivalent of the SQL ``GROUP BY`` the web application runs.

    Parameters
    ----------
    data : pandas.DataFrame
        Unit-level rows.
    keys : sequence of str
        Group, stratum, cluster and weighting-cell columns.
    outcomes : sequence of str
        Numeric outcome columns; each gives ``<name>_n``, ``<name>_sum``, ``<name>_sum2``.
    weights : str, optional
        Weight column; it is added to the keys (weights must be constant within a row of
        the result, which grouping by them guarantees).

    Returns
    -------
    (pandas.DataFrame, dict)
        The aggregated frame (with a count column ``n``) and the outcome specification to
        pass as ``outcomes=``.
    """
    key_list = as_name_list(list(keys)) + ([weights] if weights is not None else [])
    check_columns(data, key_list + list(outcomes))
    parts: dict[str, pd.Series] = {}
    for name in outcomes:
        values = pd.Series(numeric_column(data, name, "outcome"), index=data.index)
        parts[f"{name}_n"] = values.notna().astype(np.int64)
        parts[f"{name}_sum"] = values.fillna(0.0)
        parts[f"{name}_sum2"] = values.fillna(0.0) ** 2
    frame = pd.concat([data[key_list], pd.DataFrame(parts)], axis=1)
    grouped = frame.groupby(key_list, sort=True, observed=True, dropna=False)
    result = grouped.sum()
    result.insert(0, "n", grouped.size())
    result = result.reset_index()
    specs = {
        name: AggregateOutcome(f"{name}_sum", f"{name}_sum2", f"{name}_n") for name in outcomes
    }
    return result, specs
