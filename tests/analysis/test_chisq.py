"""The Rao-Scott test of independence against R's ``svychisq(statistic = "F")``.

References in tests/analysis/reference_chisq/ were computed by its make_reference.R
(R 4.2.2, survey 4.1.1; see versions.txt) on the generated survey of
tests/analysis/reference: stratified cluster designs (plain, post-stratified, raked), an
unstratified cluster design, lonely-PSU rules ``adjust`` and ``remove``, tables with missing
values in either variable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import analysis as A

HERE = Path(__file__).parent
REFERENCE = pd.read_csv(HERE / "reference_chisq" / "chisq_r.csv")
REFERENCE["stat"] = REFERENCE["stat"].str.split(".").str[0]
DATA = pd.read_csv(HERE / "reference" / "survey.csv")
POPULATION = pd.read_csv(HERE / "reference" / "population.csv")
MARGINS = pd.read_csv(HERE / "reference" / "margins.csv")
RTOL = 1e-9


def _data() -> pd.DataFrame:
    data = DATA.copy()
    data["aware_f"] = data["aware"]
    data["participated_f"] = data["participated"]
    band = pd.cut(data["score"], [-np.inf, 50, 75, np.inf], labels=["low", "mid", "high"])
    data["band"] = band.astype(object).where(band.notna(), None)
    return data


def _designs(lonely: str) -> dict[str, A.SurveyDesign]:
    data = _data()
    plain = A.design_from_units(
        data, strata="district", psu="point", weights="weight", lonely_psu=lonely
    )
    return {
        "plain": plain,
        "ps": A.poststratify(plain, POPULATION),
        "rake": A.rake(plain, MARGINS, maxit=1000, epsilon=1e-12),
        "clusters": A.design_from_units(data, psu="point", weights="weight", lonely_psu=lonely),
    }


DESIGNS = {lonely: _designs(lonely) for lonely in ("adjust", "remove")}
CASES = sorted({(r.design, r.lonely, r.row, r.col) for r in REFERENCE.itertuples(index=False)})


@pytest.mark.parametrize(("design", "lonely", "row", "col"), CASES)
def test_matches_r(design: str, lonely: str, row: str, col: str) -> None:
    want = REFERENCE[
        (REFERENCE.design == design)
        & (REFERENCE.lonely == lonely)
        & (REFERENCE.row == row)
        & (REFERENCE.col == col)
    ].set_index("stat")["value"]
    got = A.svy_chisq(DESIGNS[lonely][design], row, col)
    assert got.note == ""
    for stat in ("statistic", "ndf", "ddf", "p_value"):
        assert_allclose(getattr(got, stat), want[stat], rtol=RTOL, err_msg=stat)


def test_aggregated_rows_give_the_unit_level_result() -> None:
    data = _data()
    data["band"] = data["band"].fillna("missing")
    frame, specs = A.aggregate_units(
        data, keys=["district", "point", "band", "channel"], outcomes=["score"], weights="weight"
    )
    frame["band"] = frame["band"].where(frame["band"] != "missing", None)
    aggregated = A.design_from_aggregates(
        frame, psu="point", strata="district", weights="weight", outcomes=specs
    )
    data["band"] = data["band"].where(data["band"] != "missing", None)
    units = A.design_from_units(data, strata="district", psu="point", weights="weight")
    want = A.svy_chisq(units, "band", "channel")
    got = A.svy_chisq(aggregated, "band", "channel")
    assert got.n == want.n == int(data["band"].notna().sum())
    for stat in ("statistic", "ndf", "ddf", "p_value", "pearson", "mean_deff"):
        assert_allclose(getattr(got, stat), getattr(want, stat), rtol=1e-10, err_msg=stat)
    assert_allclose(got.table.to_numpy(), want.table.to_numpy(), rtol=1e-12)
    assert_allclose(got.table.to_numpy().sum(), 1.0)


def test_independent_variables_give_large_p_and_dependent_small() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    frame = pd.DataFrame(
        {
            "stratum": rng.integers(0, 4, n),
            "cluster": rng.integers(0, 40, n),
            "a": rng.choice(["x", "y", "z"], n),
        }
    )
    frame["cluster"] += 100 * frame["stratum"]
    frame["independent"] = rng.choice(["p", "q"], n)
    frame["dependent"] = np.where(rng.random(n) < np.where(frame["a"] == "x", 0.7, 0.4), "p", "q")
    design = A.design_from_units(frame, strata="stratum", psu="cluster")
    assert A.svy_chisq(design, "a", "independent").p_value > 0.01
    assert A.svy_chisq(design, "a", "dependent").p_value < 1e-6


def test_one_level_is_not_testable() -> None:
    frame = pd.DataFrame(
        {"cluster": [1, 1, 2, 2, 3, 3], "a": ["x"] * 6, "b": ["p", "q", "p", "q", "p", "q"]}
    )
    got = A.svy_chisq(A.design_from_units(frame, psu="cluster"), "a", "b")
    assert np.isnan(got.p_value)
    assert got.note.startswith("not testable")
    with pytest.raises(A.AnalysisError):
        A.svy_chisq(A.design_from_units(frame, psu="cluster"), "a", "missing")
