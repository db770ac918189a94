"""Differences between two groups or periods, with the covariance from the joint design.

The difference ``second - first`` of two domain means is linear in their influence
values, so its variance is the design variance of the difference of the influence
values: the covariance from shared clusters (and, for calibrated weights, shared cells)
is included, as R's ``svycontrast`` over the joint influence functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis._design import SurveyDesign
from analysis._errors import AnalysisError
from analysis._estimate import Layout
from analysis._estimate import OutcomeSums
from analysis._estimate import build_layout
from analysis._estimate import combine_strata
from analysis._estimate import domain_variance
from analysis._estimate import outcome_sums
from analysis._estimate import presence
from analysis._estimate import stratum_sums
from analysis._intervals_design import t_quantile
from analysis._validation import as_name_list
from analysis._validation import bincount_f
from analysis._validation import check_level

__all__ = ["CONTRAST_COLUMNS", "svy_contrast", "svy_contrasts"]

FloatArray = npt.NDArray[np.float64]

#: Columns after the ``by`` columns in a contrast result.
CONTRAST_COLUMNS = (
    "n_1",
    "n_2",
    "estimate_1",
    "estimate_2",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "t",
    "p_value",
    "cov",
    "note",
)


def _as_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def svy_contrast(
    design: SurveyDesign,
    outcome: str,
    compare: str,
    first: object,
    second: object,
    by: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Difference ``second - first`` between two values of ``compare``, within each group.

    Parameters
    ----------
    design : SurveyDesign
    outcome : str
        0/1 or numeric outcome (missing values left out, as in :func:`svy_estimate`).
    compare : str
        Column whose two values are compared, e.g. ``"week"`` or ``"district"``.
    first, second : object
        The two values (matched by their text form, so ``3`` matches ``"3"``).
    by : str or sequence of str, optional
        Groups within which the comparison is made (e.g. per district).
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, then ``n_1``, ``n_2``, ``estimate_1``,
        ``estimate_2``, ``difference``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``t``,
        ``p_value`` (two-sided), ``cov`` (covariance of the two estimates) and ``note``.

    Notes
    -----
    The interval is ``difference +- t_df * se`` and the p-value uses the t distribution
    with ``df`` = clusters minus strata among the rows of the two domains. Estimates from
    disjoint clusters and cells have covariance 0; periods observed at the same
    collection points usually have a positive covariance, which makes the difference more
    precise than independent samples would.
    """
    level = check_level(level)
    setup = _setup(design, as_name_list(by), compare, first, second)
    return _contrast(design, setup, outcome, level)


def svy_contrasts(
    design: SurveyDesign,
    outcomes: Sequence[str],
    compare: str,
    first: object,
    second: object,
    by: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> dict[str, pd.DataFrame]:
    """:func:`svy_contrast` of several outcomes, sharing the domains and their cells.

    Parameters and result frames are those of :func:`svy_contrast` (each outcome's frame
    is exactly what :func:`svy_contrast` returns for it); the result maps each outcome,
    in the order given, to its frame.

    Raises
    ------
    AnalysisError
        As :func:`svy_contrast`; also for an empty or repeated outcome list.
    """
    names = [str(o) for o in ([outcomes] if isinstance(outcomes, str) else outcomes)]
    if not names:
        raise AnalysisError("no outcomes to compare")
    if len(set(names)) != len(names):
        raise AnalysisError("an outcome is listed twice")
    level = check_level(level)
    setup = _setup(design, as_name_list(by), compare, first, second)
    return {name: _contrast(design, setup, name, level) for name in names}


@dataclass(frozen=True)
class _Setup:
    """The outcome-free part of a contrast: domains, their pairing and the groups."""

    compare: str
    first: object
    second: object
    layout: Layout
    group_keys: pd.DataFrame
    n_groups: int
    pair: npt.NDArray[np.int64]
    sign: FloatArray
    dom_first: npt.NDArray[np.int64]
    dom_second: npt.NDArray[np.int64]


def _setup(
    design: SurveyDesign, by_list: list[str], compare: str, first: object, second: object
) -> _Setup:
    if compare in by_list:
        raise AnalysisError(f"{compare!r} cannot be both compared and a by column")
    layout = build_layout(design, [*by_list, compare])
    levels = layout.levels
    text = levels[compare].map(_as_text)
    is_first = (text == _as_text(first)).to_numpy()
    is_second = (text == _as_text(second)).to_numpy()
    if _as_text(first) == _as_text(second):
        raise AnalysisError("first and second must differ")
    if by_list:
        group_keys = levels.loc[is_first | is_second, by_list].drop_duplicates()
        group_keys = group_keys.sort_values(by_list).reset_index(drop=True)
        lookup = pd.MultiIndex.from_frame(group_keys)
        group = lookup.get_indexer(pd.MultiIndex.from_frame(levels[by_list]))
    else:
        group_keys = pd.DataFrame(index=range(1))
        group = np.zeros(len(levels), dtype=np.int64)
    n_groups = len(group_keys)
    if n_groups == 0 or not (is_first.any() or is_second.any()):
        raise AnalysisError(f"neither {first!r} nor {second!r} occurs in column {compare!r}")
    dom_first = np.full(n_groups, -1, dtype=np.int64)
    dom_second = np.full(n_groups, -1, dtype=np.int64)
    dom_first[group[is_first]] = np.flatnonzero(is_first)
    dom_second[group[is_second]] = np.flatnonzero(is_second)
    return _Setup(
        compare=compare,
        first=first,
        second=second,
        layout=layout,
        group_keys=group_keys,
        n_groups=n_groups,
        pair=np.where(is_first | is_second, group, -1).astype(np.int64),
        sign=np.where(is_second, 1.0, np.where(is_first, -1.0, 0.0)),
        dom_first=dom_first,
        dom_second=dom_second,
    )


def _difference_variance(
    design: SurveyDesign, setup: _Setup, sums: OutcomeSums
) -> tuple[FloatArray, FloatArray]:
    """Variance of each pair's difference (second - first) and its design df."""
    layout = setup.layout
    n_groups = setup.n_groups
    pair, sign = setup.pair, setup.sign
    dom_first, dom_second = setup.dom_first, setup.dom_second
    keep = pair[layout.entry_domain] >= 0
    e_group = pair[layout.entry_domain][keep]
    e_cluster = layout.entry_cluster[keep]
    values = (sign[layout.entry_domain] * sums.entry_influence)[keep]
    observed = sums.entry_observed[keep]
    n_codes = design.n_codes
    key = e_group * n_codes + e_cluster
    uniq, inverse = np.unique(key, return_inverse=True)
    values = bincount_f(inverse, weights=values, minlength=uniq.size)
    observed = bincount_f(inverse, weights=observed, minlength=uniq.size)
    g_entry = uniq // n_codes
    c_entry = uniq % n_codes
    adjustment = None
    if sums.adjustment is not None:
        adj = np.vstack([sums.adjustment, np.zeros((1, sums.adjustment.shape[1]))])
        adjustment = adj[dom_second] - adj[dom_first]  # index -1 picks the zero row
    ssc, ssu = stratum_sums(design, g_entry, c_entry, values, n_groups, adjustment)
    present = None
    if design.lonely_psu == "average" and design.calibration is None:
        present = presence(design, g_entry, c_entry, n_groups, observed)
    var = combine_strata(design, ssc, ssu, present)
    # a cluster code of m PSUs is m clusters
    clusters = bincount_f(g_entry, weights=design.cluster_size[c_entry], minlength=n_groups)
    strata = (presence(design, g_entry, c_entry, n_groups) > 0).sum(axis=1)
    df = (clusters - strata).astype(np.float64)
    return var, df


def _contrast(design: SurveyDesign, setup: _Setup, outcome: str, level: float) -> pd.DataFrame:
    layout = setup.layout
    n_dom = layout.n_domains
    dom_first, dom_second = setup.dom_first, setup.dom_second
    compare, first, second = setup.compare, setup.first, setup.second

    sums = outcome_sums(design, layout, outcome)
    var_dom = domain_variance(design, layout, sums)
    var, df = _difference_variance(design, setup, sums)

    def pick(values_by_domain: FloatArray, index: npt.NDArray[np.int64]) -> FloatArray:
        padded = np.concatenate([values_by_domain, [np.nan]])
        return padded[np.where(index >= 0, index, n_dom)]

    est_1 = pick(sums.mean, dom_first)
    est_2 = pick(sums.mean, dom_second)
    n_1 = np.nan_to_num(pick(sums.n, dom_first))
    n_2 = np.nan_to_num(pick(sums.n, dom_second))
    # a side without answers has no estimate: no difference, SE or covariance either
    answered = (n_1 > 0) & (n_2 > 0)
    diff = np.where(answered, est_2 - est_1, np.nan)
    se = np.where(answered, np.sqrt(var), np.nan)
    q = t_quantile(1 - (1 - level) / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(
            answered, (pick(var_dom, dom_first) + pick(var_dom, dom_second) - var) / 2, np.nan
        )
        t_stat = np.where(se > 0, diff / se, np.nan)
        # the t survival function itself (what ``stats.t.sf`` evaluates, without the
        # overhead of the distribution object)
        tail = special.stdtr(np.where(df > 0, df, 1), -np.abs(t_stat))
        p_value = np.where(df > 0, 2 * tail, np.nan)
    ok = (n_1 > 0) & (n_2 > 0) & (df > 0) & (se > 0)
    notes = np.select(
        [n_1 == 0, n_2 == 0, df <= 0, ~(se > 0)],
        [
            f"not estimable: no responses for {compare}={_as_text(first)}",
            f"not estimable: no responses for {compare}={_as_text(second)}",
            "not estimable: design df is 0",
            "not estimable: SE of the difference is 0",
        ],
        default="",
    ).tolist()
    out = setup.group_keys.copy()
    out["n_1"] = n_1.astype(np.int64)
    out["n_2"] = n_2.astype(np.int64)
    out["estimate_1"] = est_1
    out["estimate_2"] = est_2
    out["difference"] = diff
    out["se"] = se
    out["ci_low"] = np.where(ok, diff - q * se, np.nan)
    out["ci_high"] = np.where(ok, diff + q * se, np.nan)
    out["df"] = df.astype(np.int64)
    out["t"] = np.where(ok, t_stat, np.nan)
    out["p_value"] = np.where(ok, p_value, np.nan)
    out["cov"] = cov
    out["note"] = notes
    return out
