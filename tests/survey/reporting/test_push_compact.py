"""Compact push rows (``expand_push_rows``) give what one row per push response gives.

The reference here is the former expansion, kept only in this test: every push row of ``n``
responses written out as ``n`` one-response rows, each its own cluster, with the values
described in ``survey.reporting.push``. The compact frame (a few rows per push row, each
standing for ``psus`` identical PSUs) must give the same estimates, standard errors,
intervals, design effects and df, unweighted, post-stratified and raked, and the same
small-area variance components; and its size must not grow with the responses.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Collection
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from survey.reporting.estimates import estimates_by
from survey.reporting.filters import METRICS
from survey.reporting.push import PSUS
from survey.reporting.push import PUSH_CLUSTER_BASE
from survey.reporting.push import expand_push_rows
from survey.reporting.small_area import _components
from survey.reporting.weighting import weighted_design

POPULATION = pd.read_csv(Path(__file__).parent / "reference_push" / "population.csv")
AGES = np.array(["18-34", "35-59", "60+"])
SEXES = np.array(["female", "male"])
BINARY = ("awareness", "participation", "satisfaction")
PUSH = 2
#: Rows of one push row at most: (segments between 2 breakpoints per metric) x parity.
BOUND = 2 * (2 * len(METRICS) + 1)


def _reference(frame: pd.DataFrame, push_channels: Collection[int]) -> pd.DataFrame:
    """The former expansion: one row per push response, each its own cluster."""
    is_push = frame["channel_id"].isin(list(push_channels)).to_numpy()
    push = frame[is_push]
    counts = push["n"].to_numpy(dtype=np.int64)
    rows = push.loc[push.index.repeat(counts)].reset_index(drop=True)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    rows["n"] = np.int64(1)
    for metric in METRICS:
        n_obs = rows[f"{metric}_n"].to_numpy(dtype=np.int64)
        total = rows[f"{metric}_sum"].to_numpy(dtype=np.float64)
        answered = (k < n_obs).astype(np.int64)
        squares_all = push[f"{metric}_sum2"].to_numpy(dtype=np.float64)
        totals_all = push[f"{metric}_sum"].to_numpy(dtype=np.float64)
        if np.all(totals_all == squares_all) and np.all(totals_all == np.round(totals_all)):
            value = np.where(k < total, 1.0, 0.0) * answered
        else:
            squares = rows[f"{metric}_sum2"].to_numpy(dtype=np.float64)
            mean = np.where(n_obs > 0, total / np.maximum(n_obs, 1), 0.0)
            spread = np.maximum(squares - total * mean, 0.0)
            paired = n_obs - n_obs % 2
            sd = np.where(paired > 0, np.sqrt(spread / np.maximum(paired, 1)), 0.0)
            sign = np.where(k % 2 == 0, 1.0, -1.0) * (k < paired)
            value = (mean + sign * sd) * answered
        rows[f"{metric}_n"] = answered
        rows[f"{metric}_sum"] = value
        rows[f"{metric}_sum2"] = value * value
    rows["cluster"] = PUSH_CLUSTER_BASE - np.arange(len(rows), dtype=np.int64)
    return pd.concat([frame[~is_push], rows], ignore_index=True)


def _metric_sums(rng: np.random.Generator, n: npt.NDArray[np.int64]) -> dict[str, np.ndarray]:
    """Random per-row sums of every metric, with missing answers and edge cases (no
    answer, all ones, all zeros, odd counts)."""
    out: dict[str, np.ndarray] = {}
    for metric in METRICS:
        n_obs = n - rng.binomial(
            n, rng.choice([0.0, 0.1, 0.5, 1.0], n.size, p=[0.4, 0.4, 0.1, 0.1])
        )
        if metric in BINARY:
            total = rng.binomial(n_obs, rng.choice([0.0, 0.4, 0.8, 1.0], n.size)).astype(float)
            squares = total
        else:
            mean = rng.uniform(40, 95, n.size)
            total = n_obs * mean
            squares = n_obs * mean * mean + np.where(
                n_obs > 1, n_obs * rng.uniform(0, 300, n.size), 0
            )
        out |= {f"{metric}_n": n_obs, f"{metric}_sum": total, f"{metric}_sum2": squares}
    return out


def report_rows(seed: int, push_n: int = 60) -> pd.DataFrame:
    """Random report rows: per district 3 place points and 2 push points, one row per
    (point, age group, sex) cell that has responses."""
    rng = np.random.default_rng(seed)
    strata = np.array([11, 12, 13, 14])
    points = np.repeat(strata, 5)
    channel = np.tile([1, 1, 1, PUSH, PUSH], strata.size)
    point_id = 100 + np.arange(points.size)
    cells = AGES.size * SEXES.size
    frame = pd.DataFrame(
        {
            "stratum": np.repeat(points, cells),
            "point_id": np.repeat(point_id, cells),
            "channel_id": np.repeat(channel, cells),
            "age_group": np.tile(np.repeat(AGES, SEXES.size), points.size),
            "sex": np.tile(SEXES, AGES.size * points.size),
        }
    )
    high = np.where(frame["channel_id"] == PUSH, push_n, 8)
    frame["n"] = rng.integers(0, high + 1)
    frame = frame[frame["n"] > 0].reset_index(drop=True)
    n = frame["n"].to_numpy(dtype=np.int64)
    frame = frame.assign(**_metric_sums(rng, n))
    return frame.assign(
        district_id=frame["stratum"],
        region_id=frame["stratum"],
        group=frame["stratum"],
        cluster=frame["point_id"].astype(np.int64),
        period=np.int64(1),
        week_start=pd.Timestamp("2026-11-30").date(),
    )


STATS = ["estimate", "se", "ci_low", "ci_high", "deff", "n_eff"]


def _same_estimates(compact: pd.DataFrame, full: pd.DataFrame, method: str) -> None:
    regions = SimpleNamespace(by_id={})
    left = weighted_design(compact, method, POPULATION, regions).design  # type: ignore[arg-type]
    right = weighted_design(full, method, POPULATION, regions).design  # type: ignore[arg-type]
    assert left is not None and right is not None
    assert (left.n_clusters, left.df) == (right.n_clusters, right.df)
    assert left.n_codes < right.n_codes
    for by in (None, "channel_id", "stratum", "age_group"):
        found = estimates_by(left, METRICS, by, min_n=1)
        expected = estimates_by(right, METRICS, by, min_n=1)
        for metric in METRICS:
            assert found[metric].keys() == expected[metric].keys()
            for key, want in expected[metric].items():
                got = found[metric][key]
                where = f"{method} {metric} {by}={key}"
                assert (got.n, got.n_missing, got.df) == (want.n, want.n_missing, want.df), where
                assert (got.method, got.note, got.too_few) == (want.method, want.note, want.too_few)
                for stat in STATS:
                    a, b = getattr(got, stat), getattr(want, stat)
                    assert (a is None) == (b is None), where + stat
                    if a is not None:
                        assert_allclose(a, b, rtol=1e-9, atol=1e-13, err_msg=where + " " + stat)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("method", ["none", "poststratify", "rake"])
def test_compact_push_rows_give_the_written_out_estimates(seed: int, method: str) -> None:
    rows = report_rows(seed)
    compact = expand_push_rows(rows, {PUSH})
    _same_estimates(compact, _reference(rows, {PUSH}), method)


@pytest.mark.parametrize("seed", range(4))
def test_compact_push_rows_give_the_same_variance_components(seed: int) -> None:
    rows = report_rows(seed)
    compact = SimpleNamespace(design_frame=expand_push_rows(rows, {PUSH}))
    full = SimpleNamespace(design_frame=_reference(rows, {PUSH}))
    for metric in METRICS:
        got = _components(compact, metric)  # type: ignore[arg-type]
        want = _components(full, metric)  # type: ignore[arg-type]
        assert got is not None and want is not None
        assert_allclose([got.within, got.between], [want.within, want.between], rtol=1e-9)
        pd.testing.assert_series_equal(got.concentration, want.concentration, rtol=1e-9)


def test_compact_rows_keep_the_sums_and_stay_few() -> None:
    rows = report_rows(3, push_n=10_000)
    compact = expand_push_rows(rows, {PUSH})
    columns = ["n"] + [f"{m}_{p}" for m in METRICS for p in ("n", "sum", "sum2")]
    assert_allclose(compact[columns].sum(), rows[columns].sum(), rtol=1e-12)
    push = compact[compact["channel_id"] == PUSH]
    assert push["cluster"].is_unique and (push["cluster"] <= PUSH_CLUSTER_BASE).all()
    assert (push["n"] == push[PSUS]).all()
    # rows of each push row: the compact rows keep the point and cell of their source
    per_source = push.groupby(["point_id", "age_group", "sex"]).agg(
        kinds=("n", "size"), responses=("n", "sum")
    )
    source = rows[rows["channel_id"] == PUSH].set_index(["point_id", "age_group", "sex"])
    assert (per_source["kinds"] <= BOUND).all()
    assert (per_source["responses"] == source["n"].reindex(per_source.index)).all()
    assert int(rows.loc[rows["channel_id"] == PUSH, "n"].max()) > 5_000
    assert (compact.loc[compact["channel_id"] != PUSH, PSUS] == 1).all()


def test_memory_does_not_grow_with_the_responses() -> None:
    """20 push rows of a million responses each: the old expansion needed 20 million rows."""
    rows = report_rows(5)
    push = rows["channel_id"] == PUSH
    rows.loc[push, "n"] = 1_000_000
    for metric in METRICS:
        rows.loc[push, f"{metric}_n"] = 999_999
        ones = 700_001 if metric in BINARY else None
        if ones is not None:
            rows.loc[push, [f"{metric}_sum", f"{metric}_sum2"]] = float(ones)
        else:
            rows.loc[push, f"{metric}_sum"] = 999_999 * 70.0
            rows.loc[push, f"{metric}_sum2"] = 999_999 * (4900.0 + 100.0)
    tracemalloc.start()
    compact = expand_push_rows(rows, {PUSH})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20
    assert len(compact) <= int((~push).sum()) + BOUND * int(push.sum())
    assert compact.loc[compact["channel_id"] == PUSH, PSUS].sum() == 1_000_000 * int(push.sum())


def test_small_push_rows() -> None:
    """A push row of one response is one row; no push rows: the frame as it is."""
    rows = report_rows(1)
    single = rows[rows["channel_id"] == PUSH].head(3).assign(n=1)
    for metric in METRICS:
        single[f"{metric}_n"] = 1
        single[f"{metric}_sum"] = 1.0
        single[f"{metric}_sum2"] = 1.0
    compact = expand_push_rows(single, {PUSH})
    assert len(compact) == 3 and (compact[PSUS] == 1).all()
    assert expand_push_rows(rows, set()) is rows
    places = rows[rows["channel_id"] != PUSH]
    assert expand_push_rows(places, {PUSH}) is places


@pytest.mark.parametrize("seed", range(6))
def test_compact_rows_are_the_same_responses(seed: int) -> None:
    """Written out (each row as ``psus`` one-response rows), the compact push rows are the
    responses of the former expansion, value for value, for every push row."""
    rows = report_rows(seed)
    compact = expand_push_rows(rows, {PUSH})
    compact = compact[compact["channel_id"] == PUSH]
    m = compact[PSUS].to_numpy()
    written = compact.loc[compact.index.repeat(m)].reset_index(drop=True)
    columns = [f"{metric}_{p}" for metric in METRICS for p in ("n", "sum", "sum2")]
    written[columns] = written[columns].div(np.repeat(m, m), axis=0)
    full = _reference(rows, {PUSH})
    full = full[full["channel_id"] == PUSH]
    keys = ["point_id", "age_group", "sex"]
    order = keys + columns
    left = written[order].sort_values(order).reset_index(drop=True)
    right = full[order].sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-12)
