"""Edges of design-based estimation: groups without answers, standard errors that are 0.

Reference values are worked by hand from the with-replacement linearisation variance
``n_psu / (n_psu - 1) * sum_c (z_c - zbar)^2`` with influence values
``z_i = w_i (y_i - ybar) / sum(w)`` inside the domain and 0 outside, or taken from the
population file (an outcome fixed by the post-stratification cells).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import analysis as A
from analysis._intervals_design import NOTE_NO_DATA
from analysis._intervals_design import NOTE_SE0
from analysis._intervals_design import NOTE_SE_ZERO

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")

# group b has no non-missing answer; every row is its own cluster, weights 1
TINY = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "g": ["a", "a", "a", "b", "b"],
        "y": [1.0, 0.0, 1.0, np.nan, np.nan],
        "score": [4.0, 1.0, 7.0, np.nan, np.nan],
        "w": 1.0,
    }
)
# influence values of group a over the 5 clusters: y: (1, -2, 1, 0, 0) / 9, score: (0, -1,
# 1, 0, 0); variance 5/4 * sum z^2
EXPECTED_A = {"y": (2 / 3, np.sqrt(5 / 4 * 6 / 81)), "score": (4.0, np.sqrt(5 / 4 * 2))}


def _tiny_design(kind: str) -> A.SurveyDesign:
    if kind == "aggregated":
        frame, specs = A.aggregate_units(
            TINY, keys=["g", "id"], outcomes=["y", "score"], weights="w"
        )
        return A.design_from_aggregates(frame, psu="id", weights="w", outcomes=specs)
    design = A.design_from_units(TINY, psu="id", weights="w")
    if kind == "poststratified":  # equal factors (30/3, 20/2): same estimate for a
        population = pd.DataFrame({"g": ["a", "b"], "N": [30, 20]})
        design = A.poststratify(design, population, min_cell_n=0)
    return design


@pytest.mark.parametrize("kind", ["units", "aggregated", "poststratified"])
@pytest.mark.parametrize("outcome,method", [("y", "logit"), ("y", "beta"), ("score", "mean")])
def test_group_without_answers_has_no_estimate(kind: str, outcome: str, method: str) -> None:
    res = A.svy_estimate(_tiny_design(kind), outcome, "g", method=method).set_index("g")
    empty = res.loc["b"]
    assert empty["n"] == 0 and empty["n_missing"] == 2
    for column in ("estimate", "se", "ci_low", "ci_high", "deff", "n_eff"):
        assert np.isnan(empty[column]), column
    assert empty["note"] == NOTE_NO_DATA
    estimate, se = EXPECTED_A[outcome]
    assert_allclose(res.loc["a", "estimate"], estimate, rtol=1e-14)
    if kind != "poststratified":  # calibration changes the variance of a
        assert_allclose(res.loc["a", "se"], se, rtol=1e-13)
    assert res.loc["a", "df"] == 2 and res.loc["a", "note"] == ""


@pytest.mark.parametrize("kind", ["units", "aggregated", "poststratified"])
def test_contrast_with_a_side_without_answers_has_no_difference(kind: str) -> None:
    design = _tiny_design(kind)
    for first, second in (("a", "b"), ("b", "a")):
        row = A.svy_contrast(design, "y", "g", first, second).iloc[0]
        assert row["note"] == "not estimable: no responses for g=b"
        for column in ("difference", "se", "ci_low", "ci_high", "t", "p_value", "cov"):
            assert np.isnan(row[column]), column
        assert {row["n_1"], row["n_2"]} == {0, 3}


def test_an_all_missing_domain_among_real_ones_leaves_the_others_unchanged() -> None:
    """Blanking one (district, week) keeps every other domain's numbers (to round-off)."""
    design = A.design_from_units(DATA, strata="district", psu="point", weights="weight")
    blank = DATA.assign(aware=DATA["aware"].where(~((DATA.district == "A") & (DATA.week == 1))))
    blanked = A.design_from_units(blank, strata="district", psu="point", weights="weight")
    before = A.svy_estimate(design, "aware", ["district", "week"]).set_index(["district", "week"])
    after = A.svy_estimate(blanked, "aware", ["district", "week"]).set_index(["district", "week"])
    assert after.loc[("A", 1), "note"] == NOTE_NO_DATA
    assert np.isnan(after.loc[("A", 1), ["estimate", "se"]].astype(float)).all()
    others = before.index != ("A", 1)
    for column in ("estimate", "se", "ci_low", "ci_high"):
        assert_allclose(after.loc[others, column], before.loc[others, column], rtol=1e-12)


def _female_design() -> A.SurveyDesign:
    data = DATA.assign(female=(DATA.gender == "f").astype(int))
    design = A.design_from_units(data, strata="district", psu="point", weights="weight")
    return A.poststratify(design, POPULATION)


@pytest.mark.parametrize("method", ["logit", "beta", "mean"])
def test_outcome_fixed_by_the_cells_has_a_zero_width_interval(method: str) -> None:
    """Share of women after post-stratifying on gender: N_f / N exactly, with no variance.

    R (survey 4.1.1) gives SE 1e-17 and a zero-width ``confint``/``svyciprop`` interval
    (its ``beta`` breaks down there); we report SE 0 and the zero-width interval.
    """
    by_district = A.svy_estimate(_female_design(), "female", "district", method=method)
    overall = A.svy_estimate(_female_design(), "female", method=method).iloc[0]
    female = POPULATION[POPULATION.gender == "f"].groupby("district")["N"].sum()
    share = female / POPULATION.groupby("district")["N"].sum()
    assert_allclose(overall["estimate"], female.sum() / POPULATION["N"].sum(), rtol=1e-13)
    res = by_district.set_index("district")
    assert_allclose(res["estimate"], share.loc[res.index], rtol=1e-13)
    fixed = pd.concat([res.drop(index="F").reset_index(drop=True), overall.to_frame().T])
    assert (fixed["note"] == NOTE_SE_ZERO).all()
    assert (fixed["se"] == 0).all() and (fixed["deff"] == 0).all()
    assert (fixed["ci_low"] == fixed["estimate"]).all()
    assert (fixed["ci_high"] == fixed["estimate"]).all()
    assert (fixed["df"] > 0).all()
    assert res.loc["F", "df"] == 0 and res.loc["F", "note"].startswith("not estimable: design df")


def test_equal_clusters_give_a_true_zero_and_one_answered_cluster_does_not() -> None:
    """Two cases of SE 0 told apart by how many clusters hold the group's answers.

    Group ``same``: clusters c1 and c2 both hold y = (1, 0): cluster totals of the
    influence values are 0 and 0, so the SE is truly 0 (df 1). Group ``one``: its answers
    (1, 0) are all in c3 and c4 holds only missing answers: df is 1 as well, but the SE
    is 0 only because a single cluster answered.
    """
    data = pd.DataFrame(
        {
            "g": ["same"] * 4 + ["one"] * 3,
            "psu": ["c1", "c1", "c2", "c2", "c3", "c3", "c4"],
            "y": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, np.nan],
        }
    )
    res = A.svy_estimate(A.design_from_units(data, psu="psu"), "y", "g").set_index("g")
    assert (res["estimate"] == 0.5).all() and (res["df"] == 1).all()
    assert res.loc["same", "note"] == NOTE_SE_ZERO and res.loc["same", "se"] == 0
    assert res.loc["same", "ci_low"] == res.loc["same", "ci_high"] == 0.5
    assert res.loc["one", "note"] == NOTE_SE0
    assert abs(res.loc["one", "se"]) < 1e-15
    assert np.isnan(res.loc["one", ["ci_low", "ci_high", "n_eff"]].astype(float)).all()
