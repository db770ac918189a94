"""A row standing for ``m`` identical PSUs (``design_from_aggregates(psus=)``) gives exactly
what the same data written out as ``m`` rows, each its own cluster, gives.

Random aggregated data over many seeds: several strata of ordinary multi-row clusters, rows
with a multiplicity of 1 to 40, a stratum whose only row stands for several PSUs (not
lonely), and optionally lonely strata (one ordinary cluster; one row of multiplicity 1). The
compact frame and its written-out copy must agree, to round-off, in every estimator that
takes a design: estimates by domains, proportions and means, every interval method, design
effects and df, post-stratified, raked and trimmed weights, every lonely-PSU rule, the
Rao-Scott test, contrasts and gaps; also on the code paths used for large designs (hash
tables, dense calibrated blocks, sparse calibration matrices).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from numpy.testing import assert_array_equal

import analysis as A
import analysis._design as design_module
import analysis._estimate as estimate_module

SEEDS = range(12)
OUTCOMES = {
    "aware": A.AggregateOutcome("aware_sum", "aware_sum2", "aware_n"),
    "score": A.AggregateOutcome("score_sum", "score_sum2", "score_n"),
}
NUMERIC = ["n", "n_missing", "estimate", "se", "ci_low", "ci_high", "deff", "df", "n_eff"]
AGES = np.array(["18-39", "40-59", "60+"])
SEXES = np.array(["f", "m"])
SUMS = ["n", "aware_n", "aware_sum", "aware_sum2", "score_n", "score_sum", "score_sum2"]


def _units(rng: np.random.Generator, size: int, varied: bool = False) -> dict[str, np.ndarray]:
    """Sums of ``size`` random groups of 1-4 respondents (some answers missing; ``varied``:
    2-4 respondents, every score answered and not all equal)."""
    n = rng.integers(2 if varied else 1, 5, size)
    aware_n = n - rng.binomial(n, 0.15)
    aware_sum = rng.binomial(aware_n, 0.6).astype(np.float64)
    score_n = n if varied else n - rng.binomial(n, 0.2)
    # quarters and sixteenths: sums of identical values are exact, so a group whose
    # responses are all equal has a spread of exactly 0 in both forms
    mean = rng.integers(16, 41, size) / 4.0
    spread = rng.integers(1 if varied else 0, 30, size) / 16.0
    score_sum = score_n * mean
    score_sum2 = score_n * mean * mean + np.where(score_n > 1, spread, 0.0)
    return {
        "n": n,
        "aware_n": aware_n,
        "aware_sum": aware_sum,
        "aware_sum2": aware_sum,
        "score_n": score_n,
        "score_sum": score_sum,
        "score_sum2": score_sum2,
    }


def _labels(rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """Domain, period, weighting cell and weight of ``size`` rows."""
    group = rng.integers(1, 4, size).astype(np.float64)
    group[rng.random(size) < 0.05] = np.nan  # outside every domain
    return {
        "g": group,
        "period": rng.integers(0, 2, size),
        "age_group": AGES[rng.integers(0, AGES.size, size)],
        "sex": SEXES[rng.integers(0, SEXES.size, size)],
        "w": rng.integers(5, 40, size) * 10.0,
    }


def _ordinary(rng: np.random.Generator, strata: np.ndarray, clusters: np.ndarray) -> pd.DataFrame:
    """Ordinary clusters: ``clusters[i]`` clusters of 1-4 rows in stratum ``strata[i]``."""
    cluster_stratum = np.repeat(strata, clusters)
    psu = np.arange(cluster_stratum.size) + 1
    rows = rng.integers(1, 5, cluster_stratum.size)
    frame = pd.DataFrame({"stratum": np.repeat(cluster_stratum, rows), "psu": np.repeat(psu, rows)})
    size = len(frame)
    return frame.assign(**_labels(rng, size), **_units(rng, size), psus=1)


def _multiple(
    rng: np.random.Generator, strata: np.ndarray, m: np.ndarray, varied: bool = False
) -> pd.DataFrame:
    """Rows of ``m`` identical PSUs each (the sums are the totals over the ``m`` PSUs)."""
    size = strata.size
    frame = pd.DataFrame({"stratum": strata, "psu": 10_000 + np.arange(size)})
    frame = frame.assign(**_labels(rng, size), psus=m)
    per_psu = _units(rng, size, varied)
    return frame.assign(**{k: v * m for k, v in per_psu.items()})


def make_compact(seed: int, *, lonely: bool = True) -> pd.DataFrame:
    """Random aggregated rows, some standing for several PSUs (column ``psus``)."""
    rng = np.random.default_rng(seed)
    n_strata = int(rng.integers(3, 6))
    ordinary = _ordinary(rng, np.arange(n_strata), rng.integers(2, 6, n_strata))
    count = int(rng.integers(5, 25))
    m = rng.integers(1, 41, count)
    multiple = _multiple(rng, rng.integers(0, n_strata, count), m)
    # a stratum whose only row stands for several PSUs: not lonely (its responses differ:
    # with all of them equal, the design effect would be 0 / 0 up to round-off)
    alone = _multiple(rng, np.array([n_strata]), np.array([int(rng.integers(2, 8))]), True)
    parts = [ordinary, multiple, alone]
    if lonely:
        parts.append(_ordinary(rng, np.array([n_strata + 1]), np.array([1])))
        parts.append(_multiple(rng, np.array([n_strata + 2]), np.array([1])))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def write_out(compact: pd.DataFrame) -> pd.DataFrame:
    """Every row of ``m`` PSUs as ``m`` rows, each its own cluster, with multiplicity 1."""
    m = compact["psus"].to_numpy()
    out = compact.loc[compact.index.repeat(m)].reset_index(drop=True)
    size = np.repeat(m, m)
    for column in SUMS:
        out[column] = out[column] / size
    out["n"] = out["n"].astype(np.int64)
    many = size > 1
    out.loc[many, "psu"] = 1_000_000 + np.arange(int(many.sum()))
    out["psus"] = 1
    return out.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _design(frame: pd.DataFrame, lonely_psu: str = "adjust", **extra: str) -> A.SurveyDesign:
    return A.design_from_aggregates(
        frame,
        psu="psu",
        strata="stratum",
        weights="w",
        outcomes=OUTCOMES,
        psus="psus",
        lonely_psu=lonely_psu,
        **extra,
    )


def _population(frame: pd.DataFrame) -> pd.DataFrame:
    cells = frame.groupby(["stratum", "age_group", "sex"], as_index=False)["n"].sum()
    return cells.assign(N=cells["n"] * 37 + 11).drop(columns="n")


def _margins(frame: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for variable, factor in (("stratum", 29), ("age_group", 31), ("sex", 23)):
        counts = frame.groupby(variable)["n"].sum()
        parts.append(
            pd.DataFrame({"margin": variable, "level": counts.index, "N": counts.values * factor})
        )
    return pd.concat(parts, ignore_index=True)


def weighted(design: A.SurveyDesign, weighting: str) -> A.SurveyDesign:
    if weighting in ("poststratify", "trim"):
        design = A.poststratify(design, _population(design.data), min_cell_n=0)
    if weighting == "rake":
        design = A.rake(design, _margins(design.data), maxit=1000, epsilon=1e-12)
    if weighting == "trim":
        design = A.trim_weights(design, lower=50, upper=2000)
    return design


def pair(
    seed: int, weighting: str = "none", lonely_psu: str = "adjust", *, lonely: bool = True
) -> tuple[A.SurveyDesign, A.SurveyDesign]:
    compact = make_compact(seed, lonely=lonely)
    return (
        weighted(_design(compact, lonely_psu), weighting),
        weighted(_design(write_out(compact), lonely_psu), weighting),
    )


def same_frame(
    left: pd.DataFrame, right: pd.DataFrame, keys: list[str], numeric: list[str]
) -> None:
    assert len(left) == len(right)
    assert_array_equal(left[keys].to_numpy(), right[keys].to_numpy())
    for column in numeric:
        expected = right[column].astype(float)
        scale = max(float(np.nanmax(np.abs(expected))) if expected.notna().any() else 1.0, 1.0)
        assert_allclose(
            left[column].astype(float), expected, rtol=1e-10, atol=1e-12 * scale, err_msg=column
        )
    assert left["note"].tolist() == right["note"].tolist()


def same_design(compact: A.SurveyDesign, full: A.SurveyDesign) -> None:
    assert compact.n_clusters == full.n_clusters
    assert compact.df == full.df
    assert_array_equal(compact.n_psu, full.n_psu)
    assert compact.n_codes < full.n_codes
    assert compact.n_rows == pytest.approx(full.n_rows, rel=1e-12)
    assert_allclose(A.kish_n_eff(compact), A.kish_n_eff(full), rtol=1e-12)


BYS: list[list[str]] = [[], ["g"], ["g", "period"], ["stratum"]]


def _check_estimates(compact: A.SurveyDesign, full: A.SurveyDesign, zero_df: str = "none") -> None:
    same_design(compact, full)
    for by in BYS:
        for method in ("logit", "beta", "mean"):
            left = A.svy_estimate(compact, "aware", by, method=method, zero_df=zero_df)
            right = A.svy_estimate(full, "aware", by, method=method, zero_df=zero_df)
            same_frame(left, right, by, NUMERIC)
        left = A.svy_estimate(compact, "score", by, zero_df=zero_df)
        right = A.svy_estimate(full, "score", by, zero_df=zero_df)
        same_frame(left, right, by, NUMERIC)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake", "trim"])
def test_estimates_match_the_written_out_data(seed: int, weighting: str) -> None:
    compact, full = pair(seed, weighting)
    _check_estimates(compact, full, zero_df="design" if seed % 2 else "none")


@pytest.mark.parametrize("seed", SEEDS[:6])
@pytest.mark.parametrize("rule", ["adjust", "average", "certainty", "remove"])
@pytest.mark.parametrize("weighting", ["none", "poststratify"])
def test_every_lonely_psu_rule(seed: int, rule: str, weighting: str) -> None:
    compact, full = pair(seed, weighting, rule)
    assert full.n_psu.min() == 1  # there are lonely strata ...
    _check_estimates(compact, full)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_fail_counts_psus_not_rows(seed: int) -> None:
    """A stratum whose only row stands for several PSUs is not lonely."""
    compact, full = pair(seed, "none", "fail", lonely=False)
    _check_estimates(compact, full)
    with pytest.raises(A.NotEstimableError, match="only one cluster"):
        _design(make_compact(seed), "fail")


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_finite_population_correction(seed: int) -> None:
    compact_frame = make_compact(seed)
    psus = _design(write_out(compact_frame)).n_psu
    population = pd.Series(psus * 3 + 2, index=np.sort(compact_frame["stratum"].unique()))

    def with_fpc(frame: pd.DataFrame) -> A.SurveyDesign:
        return _design(frame.assign(N_h=frame["stratum"].map(population)), fpc="N_h")

    compact, full = with_fpc(compact_frame), with_fpc(write_out(compact_frame))
    assert_allclose(compact.fpc_factor, full.fpc_factor, rtol=1e-15)
    _check_estimates(compact, full)


def _large_paths(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Force the code paths of large designs on small data."""
    if path == "hash":  # (domain x cluster) hash tables instead of dense bincounts
        monkeypatch.setattr(design_module, "DENSE_CELLS_LIMIT", 0)
    if path == "dense":  # calibrated variance from dense blocks, not the Gram expansion
        monkeypatch.setattr(estimate_module, "_EXPANSION_MAX_CELLS", 0)
    if path in ("sparse", "sparse-dense"):  # sparse calibration matrix, small blocks
        monkeypatch.setattr(estimate_module, "_BLOCK_CELLS", 5)
    if path == "sparse-dense":
        monkeypatch.setattr(estimate_module, "_EXPANSION_MAX_CELLS", 0)


@pytest.mark.parametrize("seed", SEEDS[:4])
@pytest.mark.parametrize("path", ["hash", "dense", "sparse", "sparse-dense"])
@pytest.mark.parametrize("weighting", ["poststratify", "rake"])
def test_large_design_code_paths(
    monkeypatch: pytest.MonkeyPatch, seed: int, path: str, weighting: str
) -> None:
    _large_paths(monkeypatch, path)
    compact, full = pair(seed, weighting)
    _check_estimates(compact, full)


CONTRAST = ["n_1", "n_2", "estimate_1", "estimate_2", "difference", "se", "ci_low", "ci_high"]
CONTRAST += ["df", "t", "p_value", "cov"]
GAPS = ["n", "estimate", "overall", "gap", "se", "ci_low", "ci_high", "df", "t", "p_value"]


@pytest.mark.parametrize("seed", SEEDS[:6])
@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake"])
@pytest.mark.parametrize("rule", ["adjust", "average"])
def test_contrasts_gaps_and_chisq(seed: int, weighting: str, rule: str) -> None:
    compact, full = pair(seed, weighting, rule)
    for by in (None, "stratum"):
        left = A.svy_contrasts(compact, ["aware", "score"], "period", 0, 1, by=by)
        right = A.svy_contrasts(full, ["aware", "score"], "period", 0, 1, by=by)
        keys = [] if by is None else [by]
        for outcome in ("aware", "score"):
            same_frame(left[outcome], right[outcome], keys, CONTRAST)
    for alternative in ("less", "two-sided"):
        left = A.svy_gaps(compact, ["aware", "score"], "g", alternative=alternative)
        right = A.svy_gaps(full, ["aware", "score"], "g", alternative=alternative)
        for outcome in ("aware", "score"):
            same_frame(left[outcome], right[outcome], ["g"], GAPS)
    for row, col in (("g", "age_group"), ("period", "sex")):
        test_left = A.svy_chisq(compact, row, col)
        test_right = A.svy_chisq(full, row, col)
        for name in ("statistic", "ndf", "ddf", "p_value", "pearson", "mean_deff"):
            assert_allclose(
                getattr(test_left, name), getattr(test_right, name), rtol=1e-9, err_msg=name
            )
        assert test_left.n == test_right.n
        assert test_left.note == test_right.note
        assert_allclose(test_left.table.to_numpy(), test_right.table.to_numpy(), rtol=1e-12)


def test_multiplicity_one_is_todays_design() -> None:
    """A ``psus`` column of ones changes nothing, bit for bit."""
    frame = write_out(make_compact(3))
    plain = A.design_from_aggregates(
        frame, psu="psu", strata="stratum", weights="w", outcomes=OUTCOMES
    )
    ones = _design(frame)
    assert ones.n_codes == plain.n_codes == plain.n_clusters and not ones.multiple
    for design_a, design_b in ((plain, ones), (weighted(plain, "rake"), weighted(ones, "rake"))):
        for by in BYS:
            left = A.svy_estimate(design_a, "score", by)
            right = A.svy_estimate(design_b, "score", by)
            pd.testing.assert_frame_equal(left, right)


def _bad(frame: pd.DataFrame, change: Callable[[pd.DataFrame], None]) -> pd.DataFrame:
    frame = frame.copy()
    change(frame)
    return frame


def test_invalid_multiplicity_is_rejected() -> None:
    frame = make_compact(5)
    many = int(np.flatnonzero(frame["psus"].to_numpy() > 1)[0])
    ordinary = int(np.flatnonzero(frame["psus"].to_numpy() == 1)[0])
    cases: list[tuple[Callable[[pd.DataFrame], None], str]] = [
        (lambda f: f.__setitem__("psus", f["psus"].astype(float).where(f.index != 0)), ">= 1"),
        (lambda f: f.__setitem__("psus", f["psus"].where(f.index != 0, 0)), ">= 1"),
        (lambda f: f.__setitem__("psus", f["psus"].where(f.index != 0, -2)), ">= 1"),
        (lambda f: f.__setitem__("psus", f["psus"].where(f.index != 0, 1.5)), "whole numbers"),
        (lambda f: f.__setitem__("psus", f["psus"].astype(str)), "not numeric"),
        # n not divisible by the multiplicity
        (lambda f: f.loc.__setitem__((many, "n"), f.loc[many, "n"] + 1), "divisible"),
        # a row of several PSUs sharing its cluster with another row
        (lambda f: f.loc.__setitem__((many, "psu"), f.loc[ordinary, "psu"]), "own cluster"),
    ]
    for change, message in cases:
        bad = _bad(frame, change)
        if message == "own cluster":
            bad.loc[many, "stratum"] = frame.loc[ordinary, "stratum"]
        with pytest.raises(A.AnalysisError, match=message):
            _design(bad)
    with pytest.raises(A.AnalysisError, match="unknown column"):
        _design(frame.drop(columns="psus"))
    # the same psu label in another stratum is another cluster: allowed
    moved = frame.copy()
    moved.loc[many, "psu"] = frame.loc[ordinary, "psu"]
    if moved.loc[many, "stratum"] == frame.loc[ordinary, "stratum"]:
        moved.loc[many, "psu"] = -1
    assert _design(moved).n_clusters == _design(frame).n_clusters


def test_the_multiplicity_column_is_not_an_outcome() -> None:
    design = _design(make_compact(2))
    assert "psus" in design.design_columns
    with pytest.raises(A.AnalysisError, match="unknown outcome"):
        A.svy_estimate(design, "psus")


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_variance_components_with_multiplicity(seed: int) -> None:
    """Per-cluster sums of m identical clusters as one row with ``psus=m``."""
    compact, full = make_compact(seed), write_out(make_compact(seed))

    def components(frame: pd.DataFrame, psus: bool) -> A.VarianceComponents:
        grouped = frame.groupby(["stratum", "psu"], sort=True)
        sums = grouped[["score_n", "score_sum", "score_sum2"]].sum()
        keys = sums.index.get_level_values("stratum").to_numpy()
        m = grouped["psus"].max() if psus else None
        return A.variance_components(
            keys, sums["score_n"], sums["score_sum"], sums["score_sum2"], m
        )

    got, want = components(compact, True), components(full, False)
    assert_allclose([got.within, got.between], [want.within, want.between], rtol=1e-10)
    pd.testing.assert_series_equal(got.concentration, want.concentration, rtol=1e-10)
    with pytest.raises(A.AnalysisError, match="psus"):
        A.variance_components([1, 1], [2, 2], [1.0, 1.0], [1.0, 1.0], [1, 0])
