"""Fay–Herriot (REML, EBLUP, Prasad–Rao MSE) against an independent R implementation.

tests/analysis/reference_fay_herriot/make_reference.R (R 4.2.2, see versions.txt) maximises
the REML likelihood with optimize() and builds the EBLUP and MSE with R's matrix algebra from
the formulas of Rao & Molina (2015), chapter 6; the Python code uses Fisher scoring. The
package `sae` could not be installed here, which is why the reference is a separate script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import analysis as A

REF = Path(__file__).parent / "reference_fay_herriot"
CASES = {"streets": ["dB", "dC", "dD", "prev", "old"], "boundary": ["x"]}


def _fit(case: str) -> tuple[A.FayHerriotFit, pd.DataFrame]:
    data = pd.read_csv(REF / f"{case}_data.csv")
    ref = pd.read_csv(REF / f"{case}_r.csv")
    x = np.column_stack([np.ones(len(data)), data[CASES[case]].to_numpy()])
    fit = A.fay_herriot(data["y"], data["psi"], x, index=pd.Index(data["area"]))
    return fit, ref.set_index("area")


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_the_independent_r_implementation(case: str) -> None:
    fit, ref = _fit(case)
    assert fit.converged
    assert_allclose(fit.sigma2_u, ref["sigma2_u"].iloc[0], rtol=1e-6, atol=1e-9)
    areas = fit.areas.loc[ref.index]
    for column in ("estimate", "mse", "lower", "upper", "gamma"):
        assert_allclose(areas[column], ref[column], rtol=1e-6, atol=1e-9, err_msg=column)
    assert (areas["synthetic"].to_numpy() == ref["synthetic"].astype(bool).to_numpy()).all()


def test_the_boundary_case_is_really_at_zero() -> None:
    fit, _ = _fit("boundary")
    assert fit.sigma2_u == 0.0
    observed = ~fit.areas["synthetic"]
    assert_allclose(fit.areas.loc[observed, "estimate"], fit.areas.loc[observed, "synthetic_value"])


def test_areas_without_a_direct_estimate_are_synthetic() -> None:
    fit, _ = _fit("streets")
    missing = fit.areas[fit.areas["synthetic"]]
    assert len(missing) == 6
    assert_allclose(missing["estimate"], missing["synthetic_value"])
    # synthetic MSE = sigma2_u + x' V(beta) x is at least the model variance
    assert (missing["mse"] >= fit.sigma2_u).all()


def test_shrinkage_moves_thin_areas_more() -> None:
    fit, _ = _fit("streets")
    seen = fit.areas[~fit.areas["synthetic"]]
    order = np.argsort(seen["direct_var"].to_numpy())
    gamma = seen["gamma"].to_numpy()[order]
    assert gamma[0] > gamma[-1]  # the most precise area keeps most of its own estimate
    assert (seen["mse"] < seen["direct_var"]).mean() > 0.5


def test_bounds_clip_the_interval() -> None:
    data = pd.read_csv(REF / "streets_data.csv")
    x = np.column_stack([np.ones(len(data)), data[CASES["streets"]].to_numpy()])
    fit = A.fay_herriot(data["y"], data["psi"], x, bounds=(0.0, 1.0))
    assert fit.areas["upper"].max() <= 1.0
    assert fit.areas["lower"].min() >= 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(A.AnalysisError, match="variance"):
        A.fay_herriot([0.5, 0.6, 0.7], [0.01, 0.0, 0.01], np.ones((3, 1)))
    with pytest.raises(A.AnalysisError, match="one row per area"):
        A.fay_herriot([0.5, 0.6], [0.01, 0.01], np.ones((3, 1)))
    with pytest.raises(A.NotEstimableError, match="more areas"):
        A.fay_herriot([0.5, np.nan, np.nan], [0.01, 1, 1], np.column_stack([np.ones(3), [1, 2, 3]]))


def test_smoothed_variances() -> None:
    v = A.smoothed_variances([1, 4, 0], unit_variance=0.25, deff=2.0)
    assert_allclose(v[:2], [0.5, 0.125])
    assert np.isnan(v[2])
    with pytest.raises(A.AnalysisError):
        A.smoothed_variances([1], unit_variance=0.0)


def _unit_anova(units: pd.DataFrame) -> tuple[float, float]:
    """The nested ANOVA from unit rows, the textbook way (unit-level sums of squares)."""
    point_mean = units.groupby("point")["y"].transform("mean")
    area_mean = units.groupby("area")["y"].transform("mean")
    ssw = float(((units["y"] - point_mean) ** 2).sum())
    ssb = float(((point_mean - area_mean) ** 2).sum())
    n_total, points, areas = len(units), units["point"].nunique(), units["area"].nunique()
    msw, msb = ssw / (n_total - points), ssb / (points - areas)
    sizes = units.groupby(["area", "point"]).size()
    area_n = sizes.groupby(level="area").transform("sum")
    n0 = (n_total - float((sizes**2 / area_n).sum())) / (points - areas)
    return msw, max((msb - msw) / n0, 0.0)


def test_variance_components_equal_the_unit_level_anova() -> None:
    rng = np.random.default_rng(5)
    area = rng.integers(0, 8, 600)
    point = area * 10 + rng.integers(0, 4, 600)
    y = rng.normal(0, 1, 600) + rng.normal(0, 0.7, 80)[point] + area
    units = pd.DataFrame({"area": area, "point": point, "y": y})
    by_point = units.groupby("point").agg(
        area=("area", "first"),
        n=("y", "size"),
        total=("y", "sum"),
        sq=("y", lambda v: (v**2).sum()),
    )
    parts = A.variance_components(
        by_point["area"], by_point["n"], by_point["total"], by_point["sq"]
    )
    within, between = _unit_anova(units)
    assert_allclose([parts.within, parts.between], [within, between], rtol=1e-10)
    assert between > 0.2  # the planted point effect (0.49) is found
    shares = units.groupby(["area", "point"]).size() / units.groupby("area").size()
    assert_allclose(parts.concentration.sort_index(), (shares**2).groupby(level="area").sum())


def test_small_area_estimates_drops_what_it_cannot_estimate() -> None:
    areas = pd.DataFrame(
        {
            "direct": [0.8, 0.7, 0.9, 0.85, np.nan, 0.75],
            "n": [20, 35, 10, 40, 0, 25],
            "district": ["a", "a", "b", "b", "b", "c"],
            "prev": [0.8, np.nan, 0.85, 0.9, 0.8, 0.7],
            "flat": [0.3] * 6,
        }
    )
    res = A.small_area_estimates(
        areas, covariates=("prev", "flat"), unit_variance=0.15, bounds=(0.0, 1.0)
    )
    assert "flat: no variation" in res.dropped
    # district c has one street with responses: no effect of its own
    assert res.covariates == ("(intercept)", "prev", "group=b")
    assert bool(res.fit.areas.loc[4, "synthetic"])
    assert res.fit.areas["estimate"].notna().all()
    fewer = A.small_area_estimates(
        areas.assign(direct=areas["direct"].where(areas.index != 5)),
        covariates=("prev",),
        unit_variance=0.15,
    )
    assert fewer.dropped == ("group=b: too few areas for it",)  # 4 areas, 3 columns
    assert fewer.covariates == ("(intercept)", "prev")
