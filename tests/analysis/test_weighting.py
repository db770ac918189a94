"""Post-stratification, raking, trimming, cell collapsing and Kish's effective n."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

import analysis as A
from analysis import _estimate as E

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "survey.csv")
POPULATION = pd.read_csv(REF / "population.csv")
MARGINS = pd.read_csv(REF / "margins.csv")


def _design(data: pd.DataFrame = DATA) -> A.SurveyDesign:
    return A.design_from_units(data, strata="district", psu="point", weights="weight")


def _weighted_totals(design: A.SurveyDesign, columns: list[str]) -> pd.Series:
    frame = design.data[columns].copy()
    frame["w"] = design.weight * design.rows
    return frame.groupby(columns)["w"].sum()


def test_poststratified_weights_hit_cell_counts() -> None:
    design = A.poststratify(_design(), POPULATION)
    cells = ["district", "age_group", "gender"]
    totals = _weighted_totals(design, cells)
    expected = POPULATION.set_index(cells)["N"].loc[totals.index]
    assert_allclose(totals.to_numpy(), expected.to_numpy(), rtol=1e-12)
    report = A.weighting_report(design)
    assert (report["collapsed"] == "").all()
    assert len(report) == len(POPULATION)


def _small() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 400
    data = pd.DataFrame(
        {
            "stratum": np.repeat(["s1", "s2"], n // 2),
            "psu": np.repeat(np.arange(20), n // 20),
            "weight": 10.0,
            "age": rng.choice(["a1", "a2", "a3"], size=n),
            "sex": rng.choice(["f", "m"], size=n),
            "y": rng.integers(0, 2, size=n).astype(float),
        }
    )
    # make (a3, m) tiny: keep only 2 respondents in that cell
    tiny = np.flatnonzero((data.age == "a3") & (data.sex == "m"))
    data = data.drop(index=tiny[2:]).reset_index(drop=True)
    population = pd.DataFrame(
        {
            "sex": ["f", "f", "f", "m", "m", "m", "m"],
            "age": ["a1", "a2", "a3", "a1", "a2", "a3", "a4"],
            "N": [1000, 1200, 900, 1100, 1150, 300, 250],  # (m, a4) has nobody in the sample
        }
    )
    return data, population


def test_tiny_and_empty_cells_are_collapsed_and_reported() -> None:
    data, population = _small()
    design = A.design_from_units(data, strata="stratum", psu="psu", weights="weight")
    ps = A.poststratify(design, population, min_cell_n=5)
    report = A.weighting_report(ps).set_index(["sex", "age"])
    # the empty (m, a4) and the tiny (m, a3) cells merge with each other (same sex, then
    # the smaller neighbour) and then with (m, a2) because 2 < 5 respondents remain
    assert report.loc[("m", "a4"), "n"] == 0
    assert report.loc[("m", "a3"), "n"] == 2
    merged = report.loc[[("m", "a2"), ("m", "a3"), ("m", "a4")], "cell"]
    assert merged.nunique() == 1
    assert "merged with" in report.loc[("m", "a4"), "collapsed"]
    assert report.loc[("f", "a1"), "collapsed"] == ""
    # nothing dropped: the weights add up to the whole population
    assert_allclose((ps.weight * ps.rows).sum(), population["N"].sum(), rtol=1e-12)
    male_a2_a3 = ps.weight[(data.sex == "m") & data.age.isin(["a2", "a3"])].sum()
    assert_allclose(male_a2_a3, 1150 + 300 + 250, rtol=1e-12)


def test_min_cell_n_zero_collapses_only_empty_cells() -> None:
    data, population = _small()
    design = A.design_from_units(data, strata="stratum", psu="psu", weights="weight")
    for min_cell_n in (0, 1):
        report = A.weighting_report(A.poststratify(design, population, min_cell_n=min_cell_n))
        merged = report[report["collapsed"] != ""]
        # only the empty (m, a4) and its neighbour (m, a3), the tiny cell stays alone
        assert sorted(merged["age"]) == ["a3", "a4"] and set(merged["sex"]) == {"m"}


def test_population_missing_a_cell_is_an_error() -> None:
    population = POPULATION[~((POPULATION.district == "A") & (POPULATION.gender == "m"))]
    with pytest.raises(A.AnalysisError, match=r"district=A.*missing from the population"):
        A.poststratify(_design(), population)
    zero = POPULATION.assign(N=np.where(POPULATION.index == 0, 0, POPULATION.N))
    with pytest.raises(A.AnalysisError, match="count of 0"):
        A.poststratify(_design(), zero)
    twice = pd.concat([POPULATION, POPULATION.iloc[:1]])
    with pytest.raises(A.AnalysisError, match="twice"):
        A.poststratify(_design(), twice)
    with pytest.raises(A.AnalysisError, match="unknown column"):
        A.poststratify(_design(), POPULATION.rename(columns={"gender": "sex"}))


def test_calibrating_twice_is_refused() -> None:
    ps = A.poststratify(_design(), POPULATION)
    with pytest.raises(A.AnalysisError, match="already calibrated"):
        A.rake(ps, MARGINS)


def test_rake_matches_every_margin() -> None:
    design = A.rake(_design(), MARGINS, maxit=1000, epsilon=1e-12)
    for margin, part in MARGINS.groupby("margin", sort=False):
        totals = _weighted_totals(design, [str(margin)])
        expected = part.set_index("level")["N"].loc[totals.index.astype(str)]
        assert_allclose(totals.to_numpy(), expected.to_numpy(), rtol=1e-9)
    as_mapping = {
        str(m): dict(zip(p["level"], p["N"], strict=True))
        for m, p in MARGINS.groupby("margin", sort=False)
    }
    again = A.rake(_design(), as_mapping, maxit=1000, epsilon=1e-12)
    assert_allclose(again.weight, design.weight, rtol=1e-14)


def test_rake_errors() -> None:
    with pytest.raises(A.AnalysisError, match="did not converge"):
        A.rake(_design(), MARGINS, maxit=1, epsilon=1e-12)
    no_f = MARGINS[~((MARGINS.margin == "district") & (MARGINS.level == "F"))]
    with pytest.raises(A.AnalysisError, match="no population count for level 'F'"):
        A.rake(_design(), no_f)
    extra = pd.concat([MARGINS, pd.DataFrame({"margin": ["gender"], "level": ["x"], "N": [10]})])
    with pytest.raises(A.AnalysisError, match="no respondents"):
        A.rake(_design(), extra)


def test_trim_weights_semantics() -> None:
    design = _design()
    w = design.weight
    trimmed = A.trim_weights(design, lower=100, upper=300)
    assert_allclose(trimmed.weight.sum(), w.sum(), rtol=1e-12)  # total kept
    inside = (w >= 100) & (w <= 300)
    assert_allclose(trimmed.weight[~inside], np.clip(w[~inside], 100, 300))
    shift = trimmed.weight[inside] - w[inside]
    assert_allclose(shift, shift[0])  # shared out equally
    strict = A.trim_weights(design, lower=100, upper=300, strict=True)
    assert strict.weight.max() <= 300 + 1e-9 and strict.weight.min() >= 100 - 1e-9
    with pytest.raises(A.AnalysisError, match="lower"):
        A.trim_weights(design, lower=3, upper=2)


def test_kish_effective_sample_size() -> None:
    assert A.kish_n_eff(np.ones(50)) == pytest.approx(50)
    assert A.kish_n_eff([1.0, 1.0, 2.0, 2.0]) == pytest.approx(36 / 10)
    assert A.kish_n_eff([1.0, 2.0], rows=[2, 2]) == pytest.approx(36 / 10)
    design = _design()
    w = design.weight
    assert A.kish_n_eff(design) == pytest.approx(w.sum() ** 2 / (w * w).sum())


@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("weighting", ["poststratify", "rake"])
def test_gram_expansion_equals_dense_totals(weighting: str, as_sparse: bool) -> None:
    """Both calibrated variance paths give the same sums of squares (dense or sparse Q)."""
    design = _design()
    if weighting == "poststratify":
        design = A.poststratify(design, POPULATION)
    else:
        design = A.rake(design, MARGINS, maxit=1000, epsilon=1e-12)
    layout = E.build_layout(design, ["district", "channel"])
    sums = E.outcome_sums(design, layout, "score")
    q = E.cluster_matrix(design)
    if as_sparse:
        q = sparse.csr_matrix(q)
    args = (
        design,
        layout.entry_domain,
        layout.entry_cluster,
        sums.entry_influence,
        layout.n_domains,
        sums.adjustment,
        q,
    )
    fast = E._expanded_sums(*args)
    dense = E._dense_sums(*args)
    scale = float(dense[1].max())
    for a, b in zip(fast, dense, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12 * scale)
