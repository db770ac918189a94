"""Several outcomes in one pass (``svy_estimates``, ``svy_contrasts``) give exactly the
one-outcome functions' frames, for unit and aggregated designs, with every weighting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import analysis as A

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")
MARGINS = pd.read_csv(REF / "margins.csv")
OUTCOMES = ["aware", "participated", "score"]
KEYS = ["district", "channel", "week", "point", "age_group", "gender"]


def _design(form: str, weighting: str) -> A.SurveyDesign:
    if form == "units":
        design = A.design_from_units(DATA, strata="district", psu="point", weights="weight")
    else:
        frame, specs = A.aggregate_units(DATA, keys=KEYS, outcomes=OUTCOMES, weights="weight")
        design = A.design_from_aggregates(
            frame, strata="district", psu="point", weights="weight", outcomes=specs
        )
    if weighting == "poststratify":
        design = A.poststratify(design, POPULATION)
    if weighting == "rake":
        design = A.rake(design, MARGINS, maxit=1000, epsilon=1e-12)
    return design


@pytest.mark.parametrize("form", ["units", "aggregated"])
@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake"])
@pytest.mark.parametrize("by", [None, "district", ["district", "channel"], "week"])
def test_estimates_equal_one_outcome_at_a_time(form: str, weighting: str, by: object) -> None:
    design = _design(form, weighting)
    methods = {"aware": "beta", "score": None}
    many = A.svy_estimates(design, OUTCOMES, by, method=methods, level=0.9)
    assert list(many) == OUTCOMES
    for outcome in OUTCOMES:
        one = A.svy_estimate(design, outcome, by, method=methods.get(outcome), level=0.9)
        assert_frame_equal(many[outcome], one, check_exact=True)


@pytest.mark.parametrize("form", ["units", "aggregated"])
@pytest.mark.parametrize("weighting", ["none", "poststratify"])
@pytest.mark.parametrize("by", [None, "district"])
def test_contrasts_equal_one_outcome_at_a_time(form: str, weighting: str, by: object) -> None:
    design = _design(form, weighting)
    weeks = sorted(DATA["week"].unique().tolist())
    many = A.svy_contrasts(design, OUTCOMES, "week", weeks[0], weeks[-1], by)
    assert list(many) == OUTCOMES
    for outcome in OUTCOMES:
        one = A.svy_contrast(design, outcome, "week", weeks[0], weeks[-1], by)
        assert_frame_equal(many[outcome], one, check_exact=True)


def test_one_method_for_all_and_bad_arguments() -> None:
    design = _design("units", "none")
    same = A.svy_estimates(design, ["aware", "participated"], "district", method="logit")
    assert_frame_equal(same["aware"], A.svy_estimate(design, "aware", "district", method="logit"))
    with pytest.raises(A.AnalysisError, match="no outcomes"):
        A.svy_estimates(design, [])
    with pytest.raises(A.AnalysisError, match="twice"):
        A.svy_estimates(design, ["aware", "aware"])
    with pytest.raises(A.AnalysisError, match="not asked for"):
        A.svy_estimates(design, ["aware"], method={"score": "mean"})
    with pytest.raises(A.AnalysisError, match="method"):
        A.svy_estimates(design, ["aware"], method={"aware": "wilson"})
    with pytest.raises(A.AnalysisError, match="needs a 0/1 outcome"):
        A.svy_estimates(design, ["aware", "score"], method="logit")
    with pytest.raises(A.AnalysisError, match="twice"):
        A.svy_contrasts(design, ["aware", "aware"], "week", 1, 2)
    with pytest.raises(A.AnalysisError, match="no outcomes"):
        A.svy_contrasts(design, [], "week", 1, 2)


def test_outcome_arrays_are_cached_per_design_and_reset_by_weighting() -> None:
    design = _design("aggregated", "none")
    first = design.outcome_arrays("aware")
    assert design.outcome_arrays("aware") is first
    weighted = A.poststratify(design, POPULATION)
    assert weighted.cache == {}
