"""Differences between groups and periods (R values are in test_design_vs_r.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import analysis as A

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")


def _design(data: pd.DataFrame = DATA, calibrate: bool = False) -> A.SurveyDesign:
    design = A.design_from_units(data, strata="district", psu="point", weights="weight")
    return A.poststratify(design, POPULATION) if calibrate else design


@pytest.mark.parametrize("calibrate", [False, True])
def test_difference_is_built_from_the_domain_estimates(calibrate: bool) -> None:
    design = _design(calibrate=calibrate)
    res = A.svy_contrast(design, "aware", "week", 1, 2, by="district")
    est = A.svy_estimate(design, "aware", ["district", "week"], method="mean")
    first = est[est.week == 1].set_index("district")
    second = est[est.week == 2].set_index("district")
    res = res.set_index("district")
    assert_allclose(res["estimate_1"], first.loc[res.index, "estimate"], rtol=1e-13)
    assert_allclose(res["estimate_2"], second.loc[res.index, "estimate"], rtol=1e-13)
    assert_allclose(res["difference"], res["estimate_2"] - res["estimate_1"], rtol=1e-13)
    var = first.loc[res.index, "se"] ** 2 + second.loc[res.index, "se"] ** 2 - 2 * res["cov"]
    assert_allclose(res["se"] ** 2, var, rtol=1e-9, atol=1e-15)
    ok = res["note"] == ""
    assert ok.sum() >= 4
    q = stats.t.ppf(0.975, res.loc[ok, "df"])
    assert_allclose(res.loc[ok, "ci_high"], res.loc[ok, "difference"] + q * res.loc[ok, "se"])
    t = res.loc[ok, "difference"] / res.loc[ok, "se"]
    assert_allclose(res.loc[ok, "p_value"], 2 * stats.t.sf(np.abs(t), res.loc[ok, "df"]))


def test_groups_in_different_strata_have_zero_covariance() -> None:
    design = _design()
    res = A.svy_contrast(design, "score", "district", "A", "B").iloc[0]
    est = A.svy_estimate(design, "score", "district").set_index("district")
    assert res["cov"] == pytest.approx(0.0, abs=1e-14)
    assert_allclose(res["se"] ** 2, est.loc["A", "se"] ** 2 + est.loc["B", "se"] ** 2, rtol=1e-12)
    assert res["df"] == est.loc["A", "df"] + est.loc["B", "df"]


def test_shared_clusters_give_a_covariance() -> None:
    """Weeks observed at the same collection points are correlated through the clusters."""
    res = A.svy_contrast(_design(), "aware", "week", 1, 3).iloc[0]
    assert res["cov"] != 0
    assert res["df"] == _design().df


def test_missing_side_and_bad_arguments() -> None:
    data = DATA[~((DATA.district == "B") & (DATA.week == 3))]
    res = A.svy_contrast(_design(data), "aware", "week", 1, 3, by="district")
    row = res.set_index("district").loc["B"]
    assert row["note"] == "not estimable: no responses for week=3"
    assert np.isnan(row["ci_low"]) and np.isnan(row["p_value"])
    assert (res.set_index("district").drop(index=["B", "F"])["note"] == "").all()
    with pytest.raises(A.AnalysisError, match="differ"):
        A.svy_contrast(_design(), "aware", "week", 1, "1")
    with pytest.raises(A.AnalysisError, match="both compared and a by column"):
        A.svy_contrast(_design(), "aware", "week", 1, 2, by="week")
    with pytest.raises(A.AnalysisError, match="neither"):
        A.svy_contrast(_design(), "aware", "week", 7, 8)
