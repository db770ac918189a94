"""``zero_df="design"``: a domain in one cluster per stratum gets the whole design's df.

R reference (tests/survey/reporting/reference_push): ``svyciprop(..., df = degf(des))`` for
such a domain; here the rule itself: same estimate and SE, df and interval from the design.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as A


def _design() -> A.SurveyDesign:
    rng = np.random.default_rng(3)
    rows = []
    for stratum in range(3):
        for point in range(4):
            group = "solo" if point == 0 else "many"
            for _ in range(12):
                rows.append((stratum, stratum * 10 + point, group, rng.normal(50, 10)))
    data = pd.DataFrame(rows, columns=["stratum", "point", "group", "y"]).assign(w=1e3)
    return A.design_from_units(data, strata="stratum", psu="point", weights="w")


def test_design_df_for_a_domain_without_its_own() -> None:
    design = _design()
    plain = A.svy_estimate(design, "y", "group").set_index("group")
    fixed = A.svy_estimate(design, "y", "group", zero_df="design").set_index("group")
    assert plain.loc["solo", "df"] == 0 and np.isnan(plain.loc["solo", "ci_low"])
    assert fixed.loc["solo", "df"] == design.df == 9
    q = stats.t.ppf(0.975, design.df)
    row = fixed.loc["solo"]
    assert row["se"] == plain.loc["solo", "se"] > 0
    assert row["ci_low"] == pytest.approx(row["estimate"] - q * row["se"], rel=1e-12)
    assert "whole design's df" in row["note"]
    # a domain with df of its own is untouched
    pd.testing.assert_series_equal(fixed.loc["many"], plain.loc["many"])


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(A.AnalysisError, match="zero_df"):
        A.svy_estimate(_design(), "y", zero_df="sometimes")
