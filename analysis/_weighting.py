"""Weighting: post-stratification, raking, trimming and Kish's effective sample size.

The calibrated weights are those of R's ``postStratify`` and ``rake``; the variance of
every later estimate accounts for the calibration exactly as R's ``svyrecvar`` does
(residuals from the cell means for post-stratification, ten passes of residual
adjustment over the margins for raking).

Cells are never dropped silently. A post-stratification cell whose number of respondents
is below ``min_cell_n`` (empty cells included) is merged with a neighbour by the rule in
:func:`poststratify`, and the merge is listed in the report (:func:`weighting_report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._design import Calibration
from analysis._design import SurveyDesign
from analysis._design import combine_codes
from analysis._design import raw_codes
from analysis._errors import AnalysisError
from analysis._validation import bincount_f
from analysis._validation import check_columns
from analysis._validation import no_missing
from analysis._validation import numeric_column

__all__ = [
    "DEFAULT_MIN_CELL_N",
    "kish_n_eff",
    "poststratify",
    "rake",
    "trim_weights",
    "weighting_report",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Cells with fewer respondents than this are merged with a neighbour.
DEFAULT_MIN_CELL_N: Final = 5


def _label(value: object) -> str:
    """Text form used to match data values with population-file values."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _cell_combos(
    design: SurveyDesign, cells: Sequence[str]
) -> tuple[IntArray, list[tuple[str, ...]], FloatArray, FloatArray]:
    """Code of each row's cell combination, the text labels of each combination, and per
    combination the number of respondents and the sum of their design weights."""
    check_columns(design.data, cells)
    no_missing(design.data, cells, "weighting cell")
    codes: list[IntArray] = []
    levels: list[pd.Index] = []
    for name in cells:
        c, lev = raw_codes(design.data[name])
        codes.append(c)
        levels.append(lev)
    combo, n_combos, parts, counts = combine_codes(codes, [len(lev) for lev in levels])
    labels = [
        tuple(_label(levels[j][parts[i, j]]) for j in range(len(cells)))
        for i in range(parts.shape[0])
    ]
    if design.aggregated:
        rows = bincount_f(combo, weights=design.rows, minlength=n_combos)
        base = bincount_f(combo, weights=design.base_weight * design.rows, minlength=n_combos)
    else:
        rows = counts.astype(np.float64)
        base = bincount_f(combo, weights=design.base_weight, minlength=n_combos)
    return combo, labels, rows, base


def _check_uncalibrated(design: SurveyDesign) -> None:
    if design.calibration is not None:
        raise AnalysisError("the design is already calibrated; calibrate the original design")


def _collapse(prefixes: list[tuple[str, ...]], n: FloatArray, min_cell_n: float) -> list[int]:
    """Group index of each cell after merging small cells with neighbours (see poststratify)."""
    groups: list[list[int]] = [[i] for i in range(len(prefixes))]
    sizes = [float(x) for x in n]
    common = [p for p in prefixes]

    def shared(a: tuple[str, ...], b: tuple[str, ...]) -> int:
        k = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            k += 1
        return k

    while len(groups) > 1:
        small = [i for i, s in enumerate(sizes) if s < min_cell_n or s == 0]
        if not small:
            break
        i = min(small, key=lambda j: (sizes[j], j))
        candidates = [j for j in (i - 1, i + 1) if 0 <= j < len(groups)]
        j = max(candidates, key=lambda c: (shared(common[i], common[c]), -sizes[c], -c))
        a, b = min(i, j), max(i, j)
        groups[a] = groups[a] + groups[b]
        sizes[a] += sizes[b]
        common[a] = common[a][: shared(common[a], common[b])]
        del groups[b], sizes[b], common[b]
    out = [0] * len(prefixes)
    for g, members in enumerate(groups):
        for m in members:
            out[m] = g
    return out


def _population_cells(
    population: pd.DataFrame, count: str
) -> tuple[list[str], FloatArray, list[tuple[str, ...]], dict[tuple[str, ...], int]]:
    """Cell columns, counts, cell labels and label -> row of a population file (checked)."""
    check_columns(population, [count], "population")
    cells = [str(c) for c in population.columns if c != count]
    if not cells:
        raise AnalysisError("population has no cell columns besides the count")
    pop_n = numeric_column(population, count, "population count")
    if not np.all(np.isfinite(pop_n)) or np.any(pop_n < 0):
        raise AnalysisError(f"population count column {count!r} must be finite and >= 0")
    pop_labels = [tuple(_label(v) for v in row) for row in population[cells].itertuples(False)]
    pop_index: dict[tuple[str, ...], int] = {}
    for i, key in enumerate(pop_labels):
        if key in pop_index:
            cell_text = ", ".join(f"{c}={v}" for c, v in zip(cells, key, strict=True))
            raise AnalysisError(f"population has the cell {cell_text} twice")
        pop_index[key] = i
    return cells, pop_n, pop_labels, pop_index


def _combo_population(
    combo_labels: list[tuple[str, ...]],
    cells: list[str],
    pop_n: FloatArray,
    pop_index: dict[tuple[str, ...], int],
) -> IntArray:
    """The population row of every cell combination in the data (each must have a count)."""
    combo_pop = np.empty(len(combo_labels), dtype=np.int64)
    for i, key in enumerate(combo_labels):
        j = pop_index.get(key)
        if j is None or pop_n[j] == 0:
            what = "is missing from" if j is None else "has a count of 0 in"
            raise AnalysisError(
                f"the cell {', '.join(f'{c}={v}' for c, v in zip(cells, key, strict=True))} {what}"
                " the population file"
            )
        combo_pop[i] = j
    return combo_pop


def _merged_text(
    cell_of_pop: IntArray,
    keep: IntArray,
    group_of_kept: list[int],
    pop_labels: list[tuple[str, ...]],
) -> list[str]:
    """Per population row, the rows its cell was merged with ("" when alone or dropped)."""
    members_of: dict[int, list[int]] = {}  # population rows of each cell, in file order
    for k, g in zip(keep.tolist(), group_of_kept, strict=True):
        members_of.setdefault(g, []).append(k)
    merged = []
    for i, g in enumerate(cell_of_pop.tolist()):
        members = members_of.get(g, [])
        merged.append(
            ""
            if g < 0 or len(members) == 1
            else "merged with " + "; ".join("/".join(pop_labels[k]) for k in members if k != i)
        )
    return merged


def poststratify(
    design: SurveyDesign,
    population: pd.DataFrame,
    *,
    count: str = "N",
    min_cell_n: float = DEFAULT_MIN_CELL_N,
) -> SurveyDesign:
    """Post-stratify the weights to known population counts of cells.

    Parameters
    ----------
    design : SurveyDesign
        An uncalibrated design (trimmed weights are allowed).
    population : pandas.DataFrame
        One row per cell: the cell variables as columns (named as in the data) and a count
        column, e.g. ``district, age_group, gender, N``.
    count : str, default "N"
        Name of the count column.
    min_cell_n : float, default 5
        Cells with fewer respondents are merged; empty cells are always merged (so 0 or
        1 merges only empty cells).

    Returns
    -------
    SurveyDesign
        With weights ``w * N_c / sum_{cell c} w`` and the calibration kept for the
        variance (R's ``postStratify``).

    Raises
    ------
    AnalysisError
        If a cell of the data is missing from the population (or has a count of 0), the
        population has duplicate cells or bad counts, or the design is already calibrated.

    Notes
    -----
    Collapsing rule: population cells are taken in the order of the file (rows with a
    count of 0 and no respondents are ignored). While some cell is empty or has fewer
    than ``min_cell_n`` respondents, the smallest such cell (the first on ties) is merged with
    the previous or next remaining cell, preferring the neighbour that shares more leading
    cell variables (same district, then same age group ...), then the smaller neighbour,
    then the previous one. Order the file so that neighbours are the cells you would merge
    (e.g. adjacent age groups). Merges are listed in :func:`weighting_report`.
    """
    _check_uncalibrated(design)
    if not isinstance(population, pd.DataFrame):
        raise AnalysisError("population must be a DataFrame")
    cells, pop_n, pop_labels, pop_index = _population_cells(population, count)
    combo, combo_labels, combo_rows, combo_base = _cell_combos(design, cells)
    combo_pop = _combo_population(combo_labels, cells, pop_n, pop_index)
    n_pop = len(pop_labels)
    sample_n = bincount_f(combo_pop, weights=combo_rows, minlength=n_pop)
    base = bincount_f(combo_pop, weights=combo_base, minlength=n_pop)
    keep = np.flatnonzero((pop_n > 0) | (sample_n > 0))
    group_of_kept = _collapse([pop_labels[i] for i in keep], sample_n[keep], min_cell_n)
    n_cells = max(group_of_kept) + 1
    cell_of_pop = np.full(n_pop, -1, dtype=np.int64)
    cell_of_pop[keep] = group_of_kept
    cell_of_combo = cell_of_pop[combo_pop]
    cell = cell_of_combo[combo]
    cell_pop = bincount_f(cell_of_pop[keep], weights=pop_n[keep], minlength=n_cells)
    cell_base = bincount_f(cell_of_combo, weights=combo_base, minlength=n_cells)
    cell_rows = bincount_f(cell_of_combo, weights=combo_rows, minlength=n_cells)
    if np.any(cell_rows == 0):  # only when every cell is empty
        raise AnalysisError("no respondents in any post-stratification cell")
    factor = cell_pop / cell_base
    report = population[cells].copy()
    report["N"] = pop_n
    report["n"] = sample_n
    report["weighted"] = base
    report["cell"] = cell_of_pop
    report["factor"] = np.where(cell_of_pop >= 0, factor[np.maximum(cell_of_pop, 0)], np.nan)
    report["collapsed"] = _merged_text(cell_of_pop, keep, group_of_kept, pop_labels)
    calibration = Calibration(
        method="poststratify",
        cell=cell,
        n_cells=n_cells,
        base_total=cell_base,
        rows=cell_rows,
        factor=factor,
        steps=(),
        report=report,
    )
    weight = design.base_weight * factor[cell]
    return design.replace_weights(weight=weight, calibration=calibration)


def _margins_from(
    margins: pd.DataFrame | Mapping[str, Mapping[object, float] | pd.Series],
) -> list[tuple[str, dict[str, float]]]:
    """Normalise margins to [(variable, {level label: N})] in order of first appearance."""
    out: list[tuple[str, dict[str, float]]] = []
    if isinstance(margins, pd.DataFrame):
        check_columns(margins, ["margin", "level", "N"], "margins")
        counts = numeric_column(margins, "N", "margin count")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise AnalysisError("margin counts N must be finite and >= 0")
        order: dict[str, dict[str, float]] = {}
        for var, level, value in zip(margins["margin"], margins["level"], counts, strict=True):
            table = order.setdefault(str(var), {})
            key = _label(level)
            if key in table:
                raise AnalysisError(f"margin {var!r} lists level {key!r} twice")
            table[key] = float(value)
        return list(order.items())
    for var, level_counts in margins.items():
        values = {_label(k): float(v) for k, v in level_counts.items()}
        if any(not np.isfinite(v) or v < 0 for v in values.values()):
            raise AnalysisError(f"margin {var!r} counts must be finite and >= 0")
        out.append((str(var), values))
    return out


Step = tuple[IntArray, int, FloatArray]


def _margin_codes(
    spec: list[tuple[str, dict[str, float]]], labels: list[tuple[str, ...]]
) -> list[Step]:
    """Per margin: every cell's level code, the number of levels and the level targets."""
    margin_codes: list[Step] = []
    for j, (var, table) in enumerate(spec):
        levels = sorted({lab[j] for lab in labels})
        missing = [lev for lev in levels if table.get(lev, 0.0) == 0.0]
        if missing:
            raise AnalysisError(f"margin {var!r} has no population count for level {missing[0]!r}")
        empty = [lev for lev, v in table.items() if v > 0 and lev not in levels]
        if empty:
            raise AnalysisError(
                f"margin {var!r} level {empty[0]!r} has a population count but no respondents;"
                " merge it with another level"
            )
        index = {lev: i for i, lev in enumerate(levels)}
        code = np.array([index[lab[j]] for lab in labels], dtype=np.int64)
        target = np.array([table[lev] for lev in levels])
        margin_codes.append((code, len(levels), target))
    return margin_codes


def _fit_margins(
    base: FloatArray, margin_codes: list[Step], maxit: int, epsilon: float
) -> tuple[FloatArray, list[Step], int]:
    """Iterative proportional fitting: cell factors, the last pass's steps, passes - 1."""
    eps = epsilon * float(base.sum()) if epsilon < 1 else epsilon
    factor = np.ones(len(base))
    old = base * factor
    steps: list[Step] = []
    iterations = 0
    while iterations < maxit:
        steps = []
        for code, n_levels, target in margin_codes:
            current = bincount_f(code, weights=base * factor, minlength=n_levels)
            factor = factor * (target / current)[code]
            steps.append((code, n_levels, factor.copy()))
        new = base * factor
        if np.max(np.abs(old - new)) < eps:
            return factor, steps, iterations
        old = new
        iterations += 1
    raise AnalysisError(
        f"raking did not converge in {maxit} iterations (epsilon {epsilon});"
        " raise maxit or merge sparse margin levels"
    )


def rake(
    design: SurveyDesign,
    margins: pd.DataFrame | Mapping[str, Mapping[object, float] | pd.Series],
    *,
    maxit: int = 100,
    epsilon: float = 1e-10,
) -> SurveyDesign:
    """Rake the weights to population margins (iterative proportional fitting).

    Parameters
    ----------
    design : SurveyDesign
        An uncalibrated design.
    margins : pandas.DataFrame or mapping
        Long frame with columns ``margin, level, N`` (margins raked in the order they
        first appear), or a mapping ``{variable: {level: N}}``.
    maxit : int, default 100
        Maximum number of full passes over the margins.
    epsilon : float, default 1e-10
        Convergence tolerance on the largest change of a weighted count of the full cross
        table of the margin variables between two passes; below 1 it is relative to the
        sum of the weights (R's ``rake(control=list(maxit=, epsilon=))`` semantics).

    Returns
    -------
    SurveyDesign

    Raises
    ------
    AnalysisError
        If a level in the data has no population count, a margin level with a positive
        count has no respondents, or the raking does not converge within ``maxit``.

    Notes
    -----
    Same algorithm and stopping rule as R's ``rake``; R's default control (``maxit=10,
    epsilon=1``) often stops early, so give R explicit values when comparing. The
    variance uses R's ten passes of residual adjustment over the margins.
    """
    _check_uncalibrated(design)
    if maxit < 1:
        raise AnalysisError("maxit must be at least 1")
    spec = _margins_from(margins)
    if not spec:
        raise AnalysisError("no margins to rake to")
    variables = [var for var, _ in spec]
    if len(set(variables)) != len(variables):
        raise AnalysisError("a margin variable is given twice")
    combo, labels, cell_rows, base = _cell_combos(design, variables)
    n_cells = len(labels)
    margin_codes = _margin_codes(spec, labels)
    factor, steps, iterations = _fit_margins(base, margin_codes, maxit, epsilon)
    report = pd.DataFrame([dict(zip(variables, lab, strict=True)) for lab in labels])
    report["n"] = cell_rows
    report["weighted"] = base
    report["factor"] = factor
    calibration = Calibration(
        method="rake",
        cell=combo,
        n_cells=n_cells,
        base_total=base,
        rows=cell_rows,
        factor=factor,
        steps=tuple(steps),
        report=report,
        iterations=iterations + 1,
    )
    weight = design.base_weight * factor[combo]
    return design.replace_weights(weight=weight, calibration=calibration)


def trim_weights(
    design: SurveyDesign,
    *,
    lower: float = -np.inf,
    upper: float = np.inf,
    strict: bool = False,
) -> SurveyDesign:
    """Trim weights to ``[lower, upper]`` and share the trimmed amount out (R ``trimWeights``).

    Weights outside the bounds are set to the bound; the total removed (or added) is
    spread equally over the respondents whose weights were inside, which keeps the sum
    of the weights. With ``strict=True`` this repeats until no weight is outside (the
    redistribution can push weights over a bound).

    Parameters
    ----------
    design : SurveyDesign
    lower, upper : float
        Bounds on a respondent's weight.
    strict : bool, default False

    Returns
    -------
    SurveyDesign
        The variance of a calibrated design still uses the calibration as R does (the
        residual adjustment uses the untrimmed calibrated weights).
    """
    if not lower <= upper:
        raise AnalysisError("lower must not exceed upper")
    w = design.weight.copy()
    m = design.rows
    for _ in range(1000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        inside_n = float(m[~outside].sum())
        if inside_n == 0:
            raise AnalysisError("every weight is outside the trimming bounds")
        new = np.clip(w, lower, upper)
        trimmed = float(((w - new) * m).sum())
        new[~outside] += trimmed / inside_n
        w = new
        if not strict:
            break
    else:
        raise AnalysisError("strict trimming did not settle in 1000 rounds")
    if design.calibration is None:
        return design.replace_weights(weight=w, base_weight=w, trimmed=True)
    return design.replace_weights(weight=w, trimmed=True)


def kish_n_eff(
    weights: FloatArray | pd.Series | SurveyDesign, rows: FloatArray | None = None
) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``.

    Parameters
    ----------
    weights : array-like or SurveyDesign
        Weights of respondents (or of a design).
    rows : array-like, optional
        Number of respondents each weight stands for (aggregated rows).

    Returns
    -------
    float
    """
    if isinstance(weights, SurveyDesign):
        w, m = weights.weight, weights.rows
    else:
        w = np.asarray(weights, dtype=np.float64)
        m = np.ones_like(w) if rows is None else np.asarray(rows, dtype=np.float64)
    total = float((w * m).sum())
    squares = float((w * w * m).sum())
    if squares == 0:
        raise AnalysisError("weights are all zero")
    return total * total / squares


def weighting_report(design: SurveyDesign) -> pd.DataFrame:
    """Cells of the calibration: population and sample counts, factor, merges.

    Returns
    -------
    pandas.DataFrame
        Empty when the design is not calibrated.
    """
    if design.calibration is None:
        return pd.DataFrame()
    return design.calibration.report.copy()
