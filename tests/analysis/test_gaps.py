"""Gaps of domains to the overall figure (against R) and the Benjamini-Hochberg rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import analysis as A

REF = Path(__file__).parent / "reference"
GAPS = pd.read_csv(Path(__file__).parent / "reference_gaps" / "gaps.csv")
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")


def _design(calibrate: bool) -> A.SurveyDesign:
    design = A.design_from_units(DATA, strata="district", psu="point", weights="weight")
    return A.poststratify(design, POPULATION) if calibrate else design


@pytest.mark.parametrize(("name", "calibrate"), [("plain", False), ("ps", True)])
def test_gaps_match_r_svycontrast(name: str, calibrate: bool) -> None:
    found = A.svy_gaps(_design(calibrate), ["aware", "score"], "channel")
    for outcome, frame in found.items():
        ref = GAPS[(GAPS.design == name) & (GAPS.outcome == outcome)].set_index("channel")
        got = frame.set_index("channel").loc[ref.index]
        assert_allclose(got["gap"], ref["gap"], rtol=1e-10, atol=1e-13)
        assert_allclose(got["se"], ref["se"], rtol=1e-10)


def test_gap_is_domain_minus_overall_and_the_test_is_one_sided() -> None:
    design = _design(False)
    frame = A.svy_gaps(design, "aware", "channel")["aware"]
    est = A.svy_estimate(design, "aware", "channel", method="mean").set_index("channel")
    overall = A.svy_estimate(design, "aware", method="mean")["estimate"].iloc[0]
    got = frame.set_index("channel")
    assert_allclose(got["estimate"], est.loc[got.index, "estimate"], rtol=1e-13)
    assert_allclose(got["overall"], overall, rtol=1e-13)
    assert_allclose(got["gap"], got["estimate"] - overall, rtol=1e-12)
    df = est.loc[got.index, "df"]  # the domain's clusters minus strata
    assert (got["df"] == df).all()
    q = stats.t.ppf(0.975, df)
    assert_allclose(got["ci_low"], got["gap"] - q * got["se"])
    assert_allclose(got["p_value"], stats.t.cdf(got["gap"] / got["se"], df))
    two = A.svy_gaps(design, "aware", "channel", alternative="two-sided")["aware"]
    assert_allclose(two["p_value"], 2 * stats.t.sf(np.abs(got["t"].to_numpy()), df))


def test_degrees_of_freedom_are_the_domains() -> None:
    """A district's gap has the district's clusters minus one df, not the design's."""
    design = _design(False)
    frame = A.svy_gaps(design, "aware", "district")["aware"].set_index("district")
    clusters = DATA.groupby("district")["point"].nunique()
    assert (frame["df"] == clusters.loc[frame.index] - 1).all()
    assert frame.loc["F", "note"].startswith("not estimable")  # one cluster: df 0
    assert np.isnan(frame.loc["F", "p_value"])


def test_aggregated_rows_give_the_unit_results() -> None:
    design = A.design_from_units(DATA, strata="district", psu="point", weights="weight")
    agg, outcomes = A.aggregate_units(
        DATA, keys=["district", "point", "channel"], outcomes=["score"], weights="weight"
    )
    grouped = A.design_from_aggregates(
        agg, psu="point", strata="district", weights="weight", outcomes=outcomes
    )
    a = A.svy_gaps(design, "score", "channel")["score"].set_index("channel")
    b = A.svy_gaps(grouped, "score", "channel")["score"].set_index("channel")
    cols = ["n", "gap", "se", "p_value"]
    assert_allclose(a[cols].to_numpy(float), b.loc[a.index, cols].to_numpy(float), rtol=1e-10)


def test_bad_arguments_are_refused() -> None:
    design = _design(False)
    with pytest.raises(A.AnalysisError):
        A.svy_gaps(design, "aware", [])
    with pytest.raises(A.AnalysisError):
        A.svy_gaps(design, "aware", "channel", alternative="below")
    with pytest.raises(A.AnalysisError):
        A.benjamini_hochberg([0.1, 1.2])
    with pytest.raises(A.AnalysisError):
        A.benjamini_hochberg([0.1], level=1.0)


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5: thresholds 0.1 * i / 5 = 0.02, 0.04, 0.06, 0.08, 0.10
    p = [0.01, 0.5, 0.035, np.nan, 0.07, 0.081]
    rejected, adjusted = A.benjamini_hochberg(p, 0.1)
    # sorted finite: 0.01, 0.035, 0.07, 0.081, 0.5 -> p*m/i: 0.05, 0.0875, 0.11667, 0.10125, 0.5
    # step-up minimum from the top: 0.05, 0.0875, 0.10125, 0.10125, 0.5
    assert_allclose(adjusted, [0.05, 0.5, 0.0875, np.nan, 0.10125, 0.10125])
    assert rejected.tolist() == [True, False, True, False, False, False]


def test_benjamini_hochberg_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.002, size=20)])
    _, adjusted = A.benjamini_hochberg(p, 0.05)
    assert_allclose(adjusted, stats.false_discovery_control(p, method="bh"), rtol=1e-12)
