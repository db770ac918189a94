"""Unit-level rows and aggregated sufficient statistics give the same answers (1e-10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from numpy.testing import assert_array_equal

import analysis as A

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")
MARGINS = pd.read_csv(REF / "margins.csv")
OUTCOMES = ["aware", "participated", "score"]
KEYS = ["district", "channel", "week", "point", "age_group", "gender"]
NUMERIC = ["n", "n_missing", "estimate", "se", "ci_low", "ci_high", "deff", "df", "n_eff"]


def _pair(weighting: str, lonely_psu: str = "adjust") -> tuple[A.SurveyDesign, A.SurveyDesign]:
    units = A.design_from_units(
        DATA, strata="district", psu="point", weights="weight", lonely_psu=lonely_psu
    )
    agg_frame, specs = A.aggregate_units(DATA, keys=KEYS, outcomes=OUTCOMES, weights="weight")
    # shuffle the aggregated rows: the result must not depend on their order
    agg_frame = agg_frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    agg = A.design_from_aggregates(
        agg_frame,
        strata="district",
        psu="point",
        weights="weight",
        outcomes=specs,
        lonely_psu=lonely_psu,
    )
    designs = []
    for design in (units, agg):
        if weighting in ("poststratify", "trim"):
            design = A.poststratify(design, POPULATION)
        if weighting == "rake":
            design = A.rake(design, MARGINS, maxit=1000, epsilon=1e-12)
        if weighting == "trim":
            design = A.trim_weights(design, lower=150, upper=900)
        designs.append(design)
    return designs[0], designs[1]


def _same(left: pd.DataFrame, right: pd.DataFrame, by: list[str]) -> None:
    assert len(left) == len(right)
    assert_array_equal(left[by].to_numpy(), right[by].to_numpy())
    for column in NUMERIC:
        expected = right[column].astype(float)
        # round-off where the exact value is 0 (e.g. SE of a one-cluster domain) scales
        # with the column's magnitude
        scale = max(float(np.nanmax(np.abs(expected))) if expected.notna().any() else 1.0, 1.0)
        assert_allclose(
            left[column].astype(float),
            expected,
            rtol=1e-10,
            atol=1e-12 * scale,
            err_msg=column,
        )
    assert left["note"].tolist() == right["note"].tolist()


@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake", "trim"])
@pytest.mark.parametrize("by", [[], ["district"], ["district", "channel"], ["week"]])
def test_units_and_aggregates_agree(weighting: str, by: list[str]) -> None:
    units, agg = _pair(weighting)
    for outcome in OUTCOMES:
        methods = ["mean"] if outcome == "score" else ["logit", "beta", "mean"]
        for method in methods:
            left = A.svy_estimate(units, outcome, by, method=method)
            right = A.svy_estimate(agg, outcome, by, method=method)
            _same(left, right, by)


@pytest.mark.parametrize("rule", ["certainty", "average", "remove"])
def test_lonely_rules_agree(rule: str) -> None:
    units, agg = _pair("poststratify", rule)
    _same(
        A.svy_estimate(units, "aware", "district"),
        A.svy_estimate(agg, "aware", "district"),
        ["district"],
    )


@pytest.mark.parametrize("weighting", ["none", "rake"])
def test_contrasts_agree(weighting: str) -> None:
    units, agg = _pair(weighting)
    left = A.svy_contrast(units, "score", "week", 1, 3, by="district")
    right = A.svy_contrast(agg, "score", "week", 1, 3, by="district")
    for column in ["difference", "se", "ci_low", "ci_high", "p_value", "cov", "df"]:
        assert_allclose(
            left[column].astype(float),
            right[column].astype(float),
            rtol=1e-10,
            atol=1e-12,
            err_msg=column,
        )


def test_weights_agree_after_calibration() -> None:
    units, agg = _pair("rake")
    assert_allclose(A.kish_n_eff(units), A.kish_n_eff(agg), rtol=1e-12)
    assert_allclose((units.weight * units.rows).sum(), (agg.weight * agg.rows).sum(), rtol=1e-12)


def test_aggregates_need_complete_columns() -> None:
    frame, specs = A.aggregate_units(DATA, keys=KEYS, outcomes=["aware"], weights="weight")
    with pytest.raises(A.AnalysisError, match="unknown column"):
        A.design_from_aggregates(
            frame.drop(columns="aware_sum2"),
            strata="district",
            psu="point",
            weights="weight",
            outcomes=specs,
        )
    bad = frame.assign(n=0)
    with pytest.raises(A.AnalysisError, match=">= 1"):
        A.design_from_aggregates(
            bad, strata="district", psu="point", weights="weight", outcomes=specs
        )
    agg = A.design_from_aggregates(
        frame, strata="district", psu="point", weights="weight", outcomes=specs
    )
    with pytest.raises(A.AnalysisError, match="unknown outcome"):
        A.svy_estimate(agg, "score")
    assert np.isclose(agg.n_rows, len(DATA))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_strata=st.integers(1, 4),
    p=st.floats(0.02, 0.98),
    method=st.sampled_from(["logit", "beta", "mean"]),
    calibrate=st.booleans(),
)
def test_random_designs_properties(
    seed: int, n_strata: int, p: float, method: str, calibrate: bool
) -> None:
    """Units == aggregates; bounds in [0, 1] and around the estimate (random designs)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 200))
    data = pd.DataFrame(
        {
            "stratum": rng.integers(0, n_strata, n),
            "psu": rng.integers(0, 4, n),
            "cell": rng.integers(0, 2, n),
            "g": rng.integers(0, 3, n),
            "y": (rng.random(n) < p).astype(float),
        }
    )
    data["weight"] = 1.0 + (data["psu"] + data["cell"]) % 3
    data.loc[rng.random(n) < 0.1, "y"] = np.nan
    units = A.design_from_units(data, strata="stratum", psu="psu", weights="weight")
    frame, specs = A.aggregate_units(
        data, keys=["g", "stratum", "psu", "cell"], outcomes=["y"], weights="weight"
    )
    agg = A.design_from_aggregates(
        frame, strata="stratum", psu="psu", weights="weight", outcomes=specs
    )
    if calibrate:
        population = pd.DataFrame({"cell": [0, 1], "N": [500.0, 700.0]})
        units = A.poststratify(units, population, min_cell_n=0)
        agg = A.poststratify(agg, population, min_cell_n=0)
    left = A.svy_estimate(units, "y", "g", method=method)
    right = A.svy_estimate(agg, "y", "g", method=method)
    _same(left, right, ["g"])
    ok = left["ci_low"].notna()
    assert ((left.loc[ok, "ci_low"] >= 0) | (method == "mean")).all()
    assert ((left.loc[ok, "ci_high"] <= 1) | (method == "mean")).all()
    assert (left.loc[ok, "ci_low"] <= left.loc[ok, "estimate"] + 1e-12).all()
    assert (left.loc[ok, "estimate"] <= left.loc[ok, "ci_high"] + 1e-12).all()
    assert (left.loc[~ok, "note"] != "").all()


def test_sparse_combinations_are_hashed_not_tabled() -> None:
    """A dense table is used only while it is not much larger than the rows: 55,000 push
    responses (each its own cluster) in 14 strata are 770,000 combinations, hashed."""
    from analysis._design import dense_cells

    assert dense_cells(40, 10)  # small tables stay dense
    assert dense_cells(8 * 1000, 1000)
    assert not dense_cells(14 * 55_000, 55_000)
    assert not dense_cells(50_000_000, 10_000_000)  # over the absolute limit


def test_hash_paths_agree_with_dense_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Very many (domain x cluster) cells switch to hashing; the numbers do not change."""
    units, _ = _pair("poststratify")
    expected = A.svy_estimate(units, "score", ["district", "channel"])
    contrast = A.svy_contrast(units, "aware", "week", 1, 2, by="district")
    import analysis._design as design_module

    monkeypatch.setattr(design_module, "DENSE_CELLS_LIMIT", 5)
    units, _ = _pair("poststratify")
    _same(
        A.svy_estimate(units, "score", ["district", "channel"]), expected, ["district", "channel"]
    )
    again = A.svy_contrast(units, "aware", "week", 1, 2, by="district")
    assert_allclose(again["se"], contrast["se"], rtol=1e-12)


@pytest.mark.parametrize("weighting", ["none", "poststratify"])
def test_rows_with_missing_group_stay_in_the_design(weighting: str) -> None:
    """A missing ``by`` value puts a row in no domain (as svyby), not out of the design."""
    blank = DATA.copy()
    blank["channel"] = blank["channel"].where(np.arange(len(blank)) % 7 != 0)
    labelled = blank.fillna({"channel": "zzz"})
    results = []
    for data in (blank, labelled):
        design = A.design_from_units(data, strata="district", psu="point", weights="weight")
        if weighting == "poststratify":
            design = A.poststratify(design, POPULATION)
        res = A.svy_estimate(design, "aware", "channel", method="logit")
        results.append(res[res["channel"] != "zzz"].reset_index(drop=True))
    assert blank["channel"].isna().sum() > 100
    _same(results[0], results[1], ["channel"])


def test_closed_sets_and_bad_arguments_raise() -> None:
    units, _ = _pair("none")
    with pytest.raises(A.AnalysisError, match="unknown method 'wilson'"):
        A.svy_estimate(units, "aware", method="wilson")
    with pytest.raises(A.AnalysisError, match="needs a 0/1 outcome"):
        A.svy_estimate(units, "score", method="logit")
    with pytest.raises(A.AnalysisError, match="level"):
        A.svy_estimate(units, "aware", level=1.5)
    with pytest.raises(A.AnalysisError, match="unknown lonely_psu rule"):
        A.design_from_units(DATA, psu="point", lonely_psu="drop")
    with pytest.raises(A.AnalysisError, match="not numeric"):
        A.svy_estimate(units, "channel")
    with pytest.raises(A.AnalysisError, match="defines the design"):
        A.svy_estimate(units, "weight")
    with pytest.raises(A.AnalysisError, match="must be finite and > 0"):
        A.design_from_units(DATA.assign(weight=-1.0), psu="point", weights="weight")
    with pytest.raises(A.AnalysisError, match="missing value"):
        A.design_from_units(DATA.assign(point=np.nan), psu="point")


def test_default_aggregate_column_names() -> None:
    """``n``, ``sum_y``, ``sum_y2`` per (group, stratum, cluster, cell) as SQL returns them."""
    data = DATA.dropna(subset=["score"])
    frame, _ = A.aggregate_units(data, keys=KEYS, outcomes=["score"], weights="weight")
    frame = frame.rename(columns={"score_sum": "sum_y", "score_sum2": "sum_y2"})
    agg = A.design_from_aggregates(
        frame.drop(columns="score_n"), strata="district", psu="point", weights="weight"
    )
    units = A.design_from_units(data, strata="district", psu="point", weights="weight")
    _same(
        A.svy_estimate(units, "score", "channel"), A.svy_estimate(agg, "y", "channel"), ["channel"]
    )
