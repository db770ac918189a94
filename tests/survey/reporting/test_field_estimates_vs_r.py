"""A mock assessment's estimates equal R's survey package on a seeded field sample.

``reference_field/make_sample.py`` draws the sample (systematic PPS with a certainty unit,
p = community probability x interviews / size); ``reference_field/make_reference.R`` runs
``svydesign(ids=~community, strata=~district, probs=~p)`` + ``postStratify(~age_group+sex)``
and ``svymean``/``svyby``; both outputs are stored next to the scripts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey.reporting.field_estimates import FIELD_METRICS
from survey.reporting.field_estimates import field_estimates

HERE = Path(__file__).resolve().parent / "reference_field"


def _reference() -> pd.DataFrame:
    ref = pd.read_csv(HERE / "reference.csv", dtype={"key": str})
    return ref.pivot_table(index=["by", "key", "outcome"], columns="stat", values="value")


def test_sample_has_a_certainty_unit_and_every_cell() -> None:
    sample = pd.read_csv(HERE / "sample.csv")
    assert (sample["p"] * 0 == 0).all()
    assert sample.groupby(["age_group", "sex"]).size().min() >= 1
    assert sample["community"].nunique() == 12


@pytest.mark.parametrize("by", [None, "district"])
def test_estimates_equal_r(by: str | None) -> None:
    sample = pd.read_csv(HERE / "sample.csv")
    population = pd.read_csv(HERE / "population.csv")
    ref = _reference()
    ours = field_estimates(sample, population, by=by, min_cell_n=0)
    compared = 0
    for metric in FIELD_METRICS:
        result = ours[metric]
        if by is None:
            rows = [("all", "all", result.iloc[0])]
        else:
            rows = [("district", str(r[by]), r) for _, r in result.iterrows()]
        for kind, key, row in rows:
            want = ref.loc[(kind, key, metric)]
            assert row["estimate"] == pytest.approx(want["estimate"], abs=1e-8, rel=0)
            assert row["se"] == pytest.approx(want["se"], abs=1e-8, rel=0)
            compared += 1
    assert compared == (4 if by is None else 16)


def test_difference_uses_both_standard_errors_and_the_smaller_df() -> None:
    from scipy import stats

    from survey.reporting.field_estimates import difference

    qr = pd.DataFrame({"estimate": [0.9], "se": [0.03], "df": [float("inf")]})
    field = pd.DataFrame({"estimate": [0.8], "se": [0.04], "df": [4.0]})
    out = difference(qr, field).iloc[0]
    assert out["difference"] == pytest.approx(0.1, abs=1e-15)
    assert out["se"] == pytest.approx(0.05, abs=1e-15)
    half = stats.t.ppf(0.975, 4) * 0.05
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((0.1 - half, 0.1 + half), abs=1e-12)
