"""Simple proportion intervals: R, statsmodels, published values, closed forms, properties."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from statsmodels.stats.proportion import proportion_confint

from analysis import AnalysisError
from analysis import proportion_ci
from analysis._proportions import PROPORTION_METHODS

REFERENCE = Path(__file__).parent / "reference_simple"


def _r_cases() -> list[tuple[str, int, int, float, float, float]]:
    with (REFERENCE / "proportion_ci_r.csv").open() as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [
            (
                r["method"],
                int(r["x"]),
                int(r["n"]),
                float(r["level"]),
                float(r["ci_low"]),
                float(r["ci_high"]),
            )
            for r in rows
        ]


R_CASES = _r_cases()


def test_r_reference_covers_every_method() -> None:
    assert {case[0] for case in R_CASES} == set(PROPORTION_METHODS)


@pytest.mark.parametrize(("method", "x", "n", "level", "low", "high"), R_CASES)
def test_matches_r(method: str, x: int, n: int, level: float, low: float, high: float) -> None:
    # R calls in reference_simple/make_reference.R (binom.test, prop.test, qbeta).
    got = proportion_ci(x, n, method=method, level=level).iloc[0]
    assert_allclose([got.ci_low, got.ci_high], [low, high], rtol=1e-8, atol=1e-14)


# Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
# comparison of seven methods. Statistics in Medicine 17, 857-872, Table II, printed to
# four decimals: method 1 (simple asymptotic = Wald), 3 (Wilson score), 5 (Clopper-Pearson).
NEWCOMBE_1998 = [
    ("wald", 81, 263, 0.2522, 0.3638),
    ("wald", 15, 148, 0.0527, 0.1500),
    ("wilson", 81, 263, 0.2553, 0.3662),
    ("wilson", 15, 148, 0.0624, 0.1605),
    ("wilson", 0, 20, 0.0000, 0.1611),
    ("wilson", 1, 29, 0.0061, 0.1718),
    ("clopper-pearson", 81, 263, 0.2527, 0.3676),
    ("clopper-pearson", 15, 148, 0.0578, 0.1617),
    ("clopper-pearson", 0, 20, 0.0000, 0.1684),
    ("clopper-pearson", 1, 29, 0.0009, 0.1776),
]


@pytest.mark.parametrize(("method", "x", "n", "low", "high"), NEWCOMBE_1998)
def test_matches_newcombe_1998(method: str, x: int, n: int, low: float, high: float) -> None:
    got = proportion_ci(x, n, method=method).iloc[0]
    assert_allclose([got.ci_low, got.ci_high], [low, high], atol=5e-5 + 1e-12)


STATSMODELS_NAMES = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
    "jeffreys": "jeffreys",
}


@pytest.mark.parametrize("method", PROPORTION_METHODS)
@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_matches_statsmodels_on_a_grid(method: str, level: float) -> None:
    n = np.repeat(np.arange(1, 61), np.arange(2, 62))
    x = np.concatenate([np.arange(k + 1) for k in range(1, 61)])
    got = proportion_ci(x, n, method=method, level=level)
    low, high = proportion_confint(x, n, alpha=1 - level, method=STATSMODELS_NAMES[method])
    low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
    if method == "jeffreys":
        # statsmodels does not apply the Brown-Cai-DasGupta boundary modification.
        low = np.where(x == 0, 0.0, low)
        high = np.where(x == n, 1.0, high)
    assert_allclose(got.ci_low, low, rtol=1e-10, atol=1e-15)
    assert_allclose(got.ci_high, high, rtol=1e-10, atol=1e-15)


def test_wilson_closed_form_by_hand() -> None:
    # 8 of 10 at 95%: centre (p + z^2/2n)/(1 + z^2/n), half z sqrt(p q/n + z^2/4n^2)/(1 + z^2/n).
    z = 1.959963984540054
    p, n = 0.8, 10
    centre = (p + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(p * (1 - p) / n + z * z / 400) / (1 + z * z / 10)
    got = proportion_ci(8, 10).iloc[0]
    assert got.ci_low == pytest.approx(centre - half, rel=1e-13)
    assert got.ci_high == pytest.approx(centre + half, rel=1e-13)
    assert got.ci_low == pytest.approx(0.4901624, abs=1e-7)
    assert got.ci_high == pytest.approx(0.9433178, abs=1e-7)
    assert got.se == pytest.approx(math.sqrt(0.8 * 0.2 / 10), rel=1e-14)


def test_clopper_pearson_edges_closed_form() -> None:
    # x = 0: upper bound solves (1 - p)^n = alpha/2; x = n: lower bound solves p^n = alpha/2.
    f = proportion_ci([0, 12], [12, 12], method="clopper-pearson")
    assert f.ci_low.tolist()[0] == 0.0
    assert f.ci_high.tolist()[1] == 1.0
    assert f.ci_high.iloc[0] == pytest.approx(1 - 0.025 ** (1 / 12), rel=1e-12)
    assert f.ci_low.iloc[1] == pytest.approx(0.025 ** (1 / 12), rel=1e-12)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_edges_are_exact(method: str) -> None:
    f = proportion_ci([0, 30], [30, 30], method=method)
    assert f.ci_low.iloc[0] == 0.0
    assert f.ci_high.iloc[1] == 1.0
    assert f.estimate.tolist() == [0.0, 1.0]
    if method == "wald":
        assert f.ci_high.iloc[0] == 0.0
        assert "zero width" in f.note.iloc[0]
    else:
        assert 0.0 < f.ci_high.iloc[0] < 0.2
        assert 0.8 < f.ci_low.iloc[1] < 1.0


def test_jeffreys_edges_follow_brown_cai_dasgupta() -> None:
    f = proportion_ci([0, 10], [10, 10], method="jeffreys")
    assert f.ci_low.iloc[0] == 0.0
    assert f.ci_high.iloc[1] == 1.0
    # The other bound is still the Beta(x + 1/2, n - x + 1/2) quantile.
    from scipy import stats

    assert f.ci_high.iloc[0] == pytest.approx(stats.beta.ppf(0.975, 0.5, 10.5), rel=1e-12)


@pytest.mark.parametrize("method", ["agresti-coull", "wald"])
def test_clipping_is_noted(method: str) -> None:
    f = proportion_ci([1, 50], [29, 100], method=method)
    assert f.ci_low.iloc[0] == 0.0
    assert f.note.iloc[0] == "interval clipped to [0, 1]"
    assert f.note.iloc[1] == ""


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_no_responses_gives_nan_with_reason(method: str) -> None:
    f = proportion_ci([0, 3], [0, 10], method=method)
    row = f.iloc[0]
    assert row.n == 0
    assert all(np.isnan([row.estimate, row.se, row.ci_low, row.ci_high]))
    assert row.note == "no responses"
    assert f.note.iloc[1] == ""
    assert f.estimate.iloc[1] == pytest.approx(0.3)


def test_pandas_in_pandas_out_with_index() -> None:
    idx = pd.MultiIndex.from_tuples([("东城", "w1"), ("东城", "w2"), ("西城", "w1")])
    x = pd.Series([5, 9, 0], index=idx)
    n = pd.Series([10, 12, 0], index=idx)
    f = proportion_ci(x, n)
    assert f.index.equals(idx)
    assert list(f.columns) == ["n", "successes", "estimate", "se", "ci_low", "ci_high", "note"]
    assert f.loc[("东城", "w2"), "successes"] == 9
    # A Series against a scalar n broadcasts and keeps the index.
    g = proportion_ci(x, 12)
    assert g.index.equals(idx)
    assert g.n.tolist() == [12, 12, 12]


def test_scalars_and_arrays_give_range_index() -> None:
    f = proportion_ci(3, 10)
    assert f.index.equals(pd.RangeIndex(1))
    g = proportion_ci(np.array([3, 4]), np.array([10, 10]))
    assert g.index.equals(pd.RangeIndex(2))
    assert f.iloc[0].equals(g.iloc[0])


def test_float_counts_with_whole_values_are_accepted() -> None:
    f = proportion_ci(np.array([3.0]), np.array([10.0]))
    assert f.successes.dtype == np.int64
    assert f.ci_low.iloc[0] == proportion_ci(3, 10).ci_low.iloc[0]


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (11, 10, "cannot exceed n"),
        (-1, 10, "non-negative"),
        (3, -2, "non-negative"),
        (2.5, 10, "whole numbers"),
        (3, 10.5, "whole numbers"),
        (np.nan, 10, "finite"),
        (3, np.inf, "finite"),
        ("a", 10, "numeric"),
        ([1, 2, 3], [10, 10], "incompatible"),
        ([[1, 2]], [10], "one-dimensional"),
    ],
)
def test_bad_counts_raise(x: object, n: object, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        proportion_ci(x, n)


def test_nullable_and_text_series() -> None:
    x = pd.Series([3, None], dtype="Int64")
    with pytest.raises(AnalysisError, match="finite"):
        proportion_ci(x, 10)
    with pytest.raises(AnalysisError, match="numeric"):
        proportion_ci(pd.Series(["3", "x"]), 10)
    ok = proportion_ci(pd.Series([3, 4], dtype="Int64"), pd.Series([10, 10], dtype="Int64"))
    assert ok.successes.tolist() == [3, 4]


def test_mismatched_pandas_indexes_raise() -> None:
    with pytest.raises(AnalysisError, match="same index"):
        proportion_ci(pd.Series([1, 2], index=["a", "b"]), pd.Series([5, 5], index=["b", "c"]))


def test_unknown_method_raises() -> None:
    with pytest.raises(AnalysisError, match="unknown method 'exact'"):
        proportion_ci(3, 10, method="exact")


@pytest.mark.parametrize("level", [0, 1, -0.5, 1.5, 95, "high"])
def test_bad_level_raises(level: object) -> None:
    with pytest.raises(AnalysisError, match="level"):
        proportion_ci(3, 10, level=level)  # type: ignore[arg-type]


def test_analysis_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        proportion_ci(11, 10)


# --- properties -------------------------------------------------------------------------

counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
methods = st.sampled_from(PROPORTION_METHODS)
levels = st.floats(min_value=0.5, max_value=0.9999)


@settings(max_examples=300, deadline=None)
@given(xn=counts, method=methods, level=levels)
def test_bounds_in_unit_interval_and_ordered(
    xn: tuple[int, int], method: str, level: float
) -> None:
    # Agresti-Coull and Wald only satisfy this because they are clipped (and noted).
    row = proportion_ci(xn[0], xn[1], method=method, level=level).iloc[0]
    assert 0.0 <= row.ci_low <= row.ci_high <= 1.0


@settings(max_examples=300, deadline=None)
@given(xn=counts, method=methods, level=levels)
def test_interval_contains_estimate(xn: tuple[int, int], method: str, level: float) -> None:
    # Holds for every method at level >= 0.5; Jeffreys can miss x/n only at levels below
    # about 0.15 (see test_jeffreys_can_miss_the_estimate_at_low_level).
    row = proportion_ci(xn[0], xn[1], method=method, level=level).iloc[0]
    assert row.ci_low <= row.estimate <= row.ci_high


def test_jeffreys_can_miss_the_estimate_at_low_level() -> None:
    row = proportion_ci(1, 168, method="jeffreys", level=0.1).iloc[0]
    assert row.ci_low > row.estimate


@settings(max_examples=300, deadline=None)
@given(
    xn=counts,
    method=methods,
    levels_pair=st.tuples(levels, levels).filter(lambda t: t[0] != t[1]).map(sorted),
)
def test_wider_at_higher_level(xn: tuple[int, int], method: str, levels_pair: list[float]) -> None:
    lo, hi = levels_pair
    a = proportion_ci(xn[0], xn[1], method=method, level=lo).iloc[0]
    b = proportion_ci(xn[0], xn[1], method=method, level=hi).iloc[0]
    assert b.ci_low <= a.ci_low + 1e-15
    assert b.ci_high >= a.ci_high - 1e-15


@settings(max_examples=200, deadline=None)
@given(xn=counts, method=st.sampled_from(["wilson", "clopper-pearson", "jeffreys", "wald"]))
def test_symmetric_under_relabelling(xn: tuple[int, int], method: str) -> None:
    x, n = xn
    a = proportion_ci(x, n, method=method).iloc[0]
    b = proportion_ci(n - x, n, method=method).iloc[0]
    assert a.ci_low == pytest.approx(1 - b.ci_high, abs=1e-12)
    assert a.ci_high == pytest.approx(1 - b.ci_low, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(counts, min_size=1, max_size=20),
    method=methods,
)
def test_vectorised_equals_one_at_a_time(data: list[tuple[int, int]], method: str) -> None:
    x = np.array([d[0] for d in data])
    n = np.array([d[1] for d in data])
    together = proportion_ci(x, n, method=method)
    for i, (xi, ni) in enumerate(data):
        alone = proportion_ci(xi, ni, method=method).iloc[0]
        assert together.iloc[i].equals(alone)
