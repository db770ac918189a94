"""Unweighted mean intervals: R's t.test, unit rows versus SQL-style sums, edge groups."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from analysis import AnalysisError
from analysis import mean_ci
from analysis import mean_summary

REFERENCE = Path(__file__).parent / "reference_simple"
COLUMNS = ["n", "n_missing", "estimate", "se", "ci_low", "ci_high", "df", "note"]


def _r_rows() -> list[dict[str, str]]:
    with (REFERENCE / "mean_ci_r.csv").open() as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


R_ROWS = _r_rows()


@pytest.mark.parametrize("row", R_ROWS, ids=[f"{r['group']}-{r['level']}" for r in R_ROWS])
def test_unit_rows_match_r_t_test(row: dict[str, str]) -> None:
    # R: t.test(y, conf.level = level), see reference_simple/make_reference.R.
    y = np.array([float(v) for v in row["values"].split()])
    got = mean_ci(pd.DataFrame({"y": y}), "y", level=float(row["level"])).iloc[0]
    want = [float(row[k]) for k in ("estimate", "se", "ci_low", "ci_high", "df")]
    assert_allclose([got.estimate, got.se, got.ci_low, got.ci_high, got.df], want, rtol=1e-10)
    assert got.n == int(row["n"])


@pytest.mark.parametrize("row", R_ROWS, ids=[f"{r['group']}-{r['level']}" for r in R_ROWS])
def test_sums_match_r_t_test(row: dict[str, str]) -> None:
    summary = pd.DataFrame(
        {"n": [int(row["n"])], "sum": [float(row["sum"])], "sum_sq": [float(row["sum_sq"])]}
    )
    got = mean_ci(summary, level=float(row["level"])).iloc[0]
    want = [float(row[k]) for k in ("estimate", "se", "ci_low", "ci_high")]
    assert_allclose([got.estimate, got.se, got.ci_low, got.ci_high], want, rtol=1e-10)


def test_closed_form_by_hand() -> None:
    # y = 60, 70, 80: mean 70, s = 10, se = 10/sqrt(3). With 2 degrees of freedom the t
    # quantile has the closed form t = (2q - 1) sqrt(2 / (4 q (1 - q))), q = 0.975.
    got = mean_ci(pd.DataFrame({"y": [60.0, 70.0, 80.0]}), "y").iloc[0]
    se = 10 / np.sqrt(3)
    q = 0.975
    t = (2 * q - 1) * np.sqrt(2 / (4 * q * (1 - q)))
    assert got.estimate == pytest.approx(70.0, rel=1e-15)
    assert got.se == pytest.approx(se, rel=1e-14)
    assert got.ci_low == pytest.approx(70 - t * se, rel=1e-13)
    assert got.ci_high == pytest.approx(70 + t * se, rel=1e-13)
    assert got.df == 2


def _survey_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = 3000
    score = np.round(rng.beta(5, 1.5, rows) * 100, 1)
    score[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "district": rng.choice(["东城", "西城", "朝阳", "海淀"], rows),
            "channel": rng.choice(["wechat", "poster", "school"], rows),
            "score": score,
        }
    )


def test_unit_rows_and_sql_aggregates_agree() -> None:
    data = _survey_frame(7)
    by = ["district", "channel"]
    unit = mean_ci(data, "score", by)
    con = sqlite3.connect(":memory:")
    try:
        data.to_sql("responses", con, index=False)
        sums = pd.read_sql_query(
            "SELECT district, channel, COUNT(score) AS n, "
            "SUM(CASE WHEN score IS NULL THEN 1 ELSE 0 END) AS n_missing, "
            "TOTAL(score) AS sum, TOTAL(score * score) AS sum_sq "
            "FROM responses GROUP BY district, channel",
            con,
        )
    finally:
        con.close()
    aggregated = mean_ci(sums, by=by)
    assert list(unit.columns) == COLUMNS
    aggregated = aggregated.loc[unit.index]
    assert unit.index.names == by
    assert (unit[["n", "n_missing", "note"]] == aggregated[["n", "n_missing", "note"]]).all().all()
    num = ["estimate", "se", "ci_low", "ci_high", "df"]
    assert_allclose(unit[num].to_numpy(), aggregated[num].to_numpy(), rtol=1e-12)
    assert unit.n_missing.sum() == data.score.isna().sum()


def test_groups_match_scipy_per_group() -> None:
    data = _survey_frame(11)
    got = mean_ci(data, "score", "district", level=0.9)
    for district, rows in data.dropna().groupby("district"):
        y = rows.score.to_numpy()
        low, high = stats.t.interval(0.9, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
        assert_allclose(got.loc[district, ["ci_low", "ci_high"]].tolist(), [low, high], rtol=1e-12)


def test_mean_summary_columns() -> None:
    data = pd.DataFrame({"g": ["a", "a", "b"], "y": [1.0, np.nan, 3.0]})
    s = mean_summary(data, "y", "g")
    assert s.loc["a"].tolist() == [1, 1, 1.0, 1.0]
    assert s.loc["b"].tolist() == [1, 0, 3.0, 9.0]


def test_small_groups_say_why() -> None:
    data = pd.DataFrame(
        {
            "g": ["none", "one", "one", "flat", "flat", "flat", "ok", "ok"],
            "y": [np.nan, 50.0, np.nan, 70.1, 70.1, 70.1, 10.0, 20.0],
        }
    )
    f = mean_ci(data, "y", "g")
    assert f.loc["none", "note"] == "no responses"
    assert np.isnan(f.loc["none", "estimate"])
    assert f.loc["none", "n_missing"] == 1
    assert "only 1 response" in f.loc["one", "note"]
    assert f.loc["one", "estimate"] == 50.0
    assert np.isnan(f.loc["one", ["se", "ci_low", "ci_high", "df"]].astype(float)).all()
    assert f.loc["flat", "note"] == "all responses are equal: zero-width interval"
    assert f.loc["flat", "se"] == 0.0
    assert f.loc["flat", "ci_low"] == f.loc["flat", "ci_high"] == pytest.approx(70.1)
    assert f.loc["ok", "note"] == ""


def test_no_by_gives_one_row() -> None:
    f = mean_ci(pd.DataFrame({"y": [1.0, 2.0, np.nan]}), "y")
    assert len(f) == 1
    assert f.n.iloc[0] == 2
    assert f.n_missing.iloc[0] == 1


def test_boolean_outcome_is_a_mean_of_zero_one() -> None:
    f = mean_ci(pd.DataFrame({"y": [True, False, True, True]}), "y")
    assert f.estimate.iloc[0] == 0.75


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "nope"}, "unknown column"),
        ({"outcome": "y", "by": "nope"}, "unknown column"),
        ({"outcome": "label"}, "not numeric"),
        ({"outcome": "y", "level": 1.0}, "level"),
    ],
)
def test_bad_unit_input_raises(kwargs: dict[str, object], message: str) -> None:
    data = pd.DataFrame({"y": [1.0, 2.0], "label": ["a", "b"]})
    with pytest.raises(AnalysisError, match=message):
        mean_ci(data, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        ({"n": [2], "sum": [3.0]}, "unknown column"),
        ({"n": [-1], "sum": [3.0], "sum_sq": [5.0]}, "non-negative"),
        ({"n": [2.5], "sum": [3.0], "sum_sq": [5.0]}, "whole numbers"),
        ({"n": [2], "sum": [10.0], "sum_sq": [1.0]}, "inconsistent"),
        ({"n": [0], "sum": [1.0], "sum_sq": [1.0]}, "n = 0"),
        ({"n": [2], "sum": [np.inf], "sum_sq": [1.0]}, "finite"),
    ],
)
def test_bad_summary_raises(summary: dict[str, list[float]], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        mean_ci(pd.DataFrame(summary))


def test_infinite_values_raise() -> None:
    with pytest.raises(AnalysisError, match="infinite"):
        mean_ci(pd.DataFrame({"y": [1.0, np.inf]}), "y")


def test_not_a_frame_raises() -> None:
    with pytest.raises(AnalysisError, match="DataFrame"):
        mean_ci([1.0, 2.0], "y")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=100), min_size=2, max_size=60),
    st.floats(min_value=0.5, max_value=0.999),
)
def test_properties_against_scipy(values: list[int], level: float) -> None:
    y = np.array(values, dtype=float)
    f = mean_ci(pd.DataFrame({"y": y}), "y", level=level).iloc[0]
    assert f.ci_low <= f.estimate <= f.ci_high
    assert f.estimate == pytest.approx(y.mean(), rel=1e-12)
    assert f.se == pytest.approx(y.std(ddof=1) / np.sqrt(len(y)), rel=1e-9, abs=1e-12)
    if np.ptp(y) == 0:
        assert f.note == "all responses are equal: zero-width interval"
    else:
        wider = mean_ci(pd.DataFrame({"y": y}), "y", level=(1 + level) / 2).iloc[0]
        assert wider.ci_low < f.ci_low
        assert wider.ci_high > f.ci_high
