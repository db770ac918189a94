"""Rank intervals by seeded simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis import AnalysisError
from analysis import rank_intervals

DISTRICTS = pd.Series(
    [0.90, 0.85, 0.80, 0.70, 0.88], index=["东城", "西城", "朝阳", "海淀", "丰台"]
)
SE = np.array([0.02, 0.02, 0.02, 0.01, 0.05])


def test_columns_index_and_point_ranks() -> None:
    got = rank_intervals(DISTRICTS, SE)
    assert list(got.columns) == ["estimate", "rank", "rank_low", "rank_high", "p_best"]
    assert got.index.equals(DISTRICTS.index)
    assert got["rank"].tolist() == [1, 3, 4, 5, 2]
    assert (got.rank_low <= got["rank"]).all()
    assert (got["rank"] <= got.rank_high).all()
    assert got.p_best.sum() == pytest.approx(1.0)


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    a = rank_intervals(DISTRICTS, SE, seed=7)
    b = rank_intervals(DISTRICTS, SE, seed=7)
    c = rank_intervals(DISTRICTS, SE, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.p_best.equals(c.p_best)
    gen = rank_intervals(DISTRICTS, SE, seed=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, gen)


def test_a_generator_advances_and_an_integer_seed_repeats() -> None:
    # Draws of small integer-seeded sets are kept for reuse: a generator must still move on,
    # and a seed must give its own draws whatever was asked in between.
    rng = np.random.default_rng(7)
    first = rank_intervals(DISTRICTS, SE, seed=rng)
    second = rank_intervals(DISTRICTS, SE, seed=rng)
    assert not first.p_best.equals(second.p_best)
    for seed in range(10):
        rank_intervals(DISTRICTS, SE, seed=seed, descending=seed % 2 == 0)
    pd.testing.assert_frame_equal(rank_intervals(DISTRICTS, SE, seed=7), first)
    pd.testing.assert_frame_equal(rank_intervals(DISTRICTS, SE, seed=np.int64(7)), first)


def test_se_vector_equals_diagonal_covariance() -> None:
    a = rank_intervals(DISTRICTS, SE, seed=3)
    b = rank_intervals(DISTRICTS, np.diag(SE**2), seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_two_groups_p_best_matches_normal_probability() -> None:
    # P(theta_1 > theta_2) = Phi((m1 - m2) / sqrt(s1^2 + s2^2 - 2 c)).
    est = np.array([0.82, 0.80])
    cov = np.array([[0.02**2, 0.5 * 0.02 * 0.015], [0.5 * 0.02 * 0.015, 0.015**2]])
    got = rank_intervals(est, cov, n_sim=200_000, seed=11)
    sd = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    want = stats.norm.cdf(0.02 / sd)
    assert got.p_best.iloc[0] == pytest.approx(want, abs=4 * np.sqrt(want * (1 - want) / 200_000))
    assert got.p_best.iloc[1] == pytest.approx(1 - got.p_best.iloc[0], abs=1e-12)


def test_covariance_changes_the_answer() -> None:
    # Two periods sharing clusters: strongly correlated estimates are ranked more surely.
    est = np.array([0.81, 0.80])
    indep = rank_intervals(est, np.array([0.02, 0.02]), seed=5)
    rho = 0.95
    cov = 0.02**2 * np.array([[1, rho], [rho, 1]])
    corr = rank_intervals(est, cov, seed=5)
    assert corr.p_best.iloc[0] > indep.p_best.iloc[0] + 0.2


def test_well_separated_groups_have_point_intervals() -> None:
    got = rank_intervals(np.array([0.1, 0.5, 0.9]), np.array([0.001, 0.001, 0.001]))
    assert got.rank_low.tolist() == got.rank_high.tolist() == [3, 2, 1]
    assert got.p_best.tolist() == [0.0, 0.0, 1.0]


def test_ascending_ranks_smallest_first() -> None:
    got = rank_intervals(DISTRICTS, SE, descending=False)
    assert got["rank"].tolist() == [5, 3, 2, 1, 4]


def test_indistinguishable_groups_span_all_ranks() -> None:
    got = rank_intervals(np.zeros(4), np.ones(4), n_sim=20_000, seed=1)
    assert got.rank_low.tolist() == [1, 1, 1, 1]
    assert got.rank_high.tolist() == [4, 4, 4, 4]
    assert_allclose(got.p_best, 0.25, atol=0.015)
    assert got["rank"].tolist() == [1, 1, 1, 1]


def test_rank_interval_matches_quantiles_of_simulated_ranks() -> None:
    # An independent check of the counting: redo the simulation with the same draws.
    est = np.array([0.5, 0.52, 0.48, 0.55, 0.3])
    se = np.array([0.03, 0.03, 0.05, 0.02, 0.1])
    got = rank_intervals(est, se, n_sim=5000, seed=9, level=0.9)
    rng = np.random.default_rng(9)
    draws = est + rng.standard_normal((5000, 5)) * se
    ranks = stats.rankdata(-draws, axis=1, method="min")
    low = np.quantile(ranks, 0.05, axis=0, method="inverted_cdf")
    high = np.quantile(ranks, 0.95, axis=0, method="inverted_cdf")
    assert got.rank_low.tolist() == low.astype(int).tolist()
    assert got.rank_high.tolist() == high.astype(int).tolist()
    assert_allclose(got.p_best, (ranks == 1).mean(axis=0))


def test_singular_covariance_is_accepted() -> None:
    # Group 3 is the mean of groups 1 and 2: a rank-2 covariance.
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]) * 0.02
    cov = a @ a.T
    got = rank_intervals(np.array([0.8, 0.78, 0.79]), cov, seed=2)
    assert got.p_best.sum() == pytest.approx(1.0)
    assert (got.rank_low <= got.rank_high).all()


def test_many_groups_in_blocks() -> None:
    # 400 groups x 10,000 draws exceeds one block: counting across blocks must add up.
    est = np.linspace(0, 1, 400)
    got = rank_intervals(est, np.full(400, 0.01), seed=4)
    assert got.p_best.sum() == pytest.approx(1.0)
    assert got["rank"].tolist() == list(range(400, 0, -1))
    assert (got.rank_low <= got["rank"]).all()
    assert (got["rank"] <= got.rank_high).all()


@pytest.mark.parametrize(
    ("est", "cov", "kwargs", "message"),
    [
        ([0.5, np.nan], [0.1, 0.1], {}, "finite"),
        ([0.5, 0.6], [0.1], {}, "one value per group"),
        ([0.5, 0.6], [-0.1, 0.1], {}, "non-negative"),
        ([0.5, 0.6], [[1.0, 0.0], [0.5, 1.0]], {}, "symmetric"),
        ([0.5, 0.6], [[1.0, 2.0], [2.0, 1.0]], {}, "semi-definite"),
        ([0.5, 0.6], np.eye(3), {}, "2 x 2"),
        ([], [], {}, "no groups"),
        ([[0.5]], [0.1], {}, "one-dimensional"),
        ([0.5, 0.6], [0.1, 0.1], {"n_sim": 0}, "n_sim"),
        ([0.5, 0.6], [0.1, 0.1], {"n_sim": 10.5}, "n_sim"),
        ([0.5, 0.6], [0.1, 0.1], {"level": 0.0}, "level"),
        (["a", "b"], [0.1, 0.1], {}, "numeric"),
    ],
)
def test_bad_input_raises(
    est: object, cov: object, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(AnalysisError, match=message):
        rank_intervals(est, cov, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("descending", [True, False])
def test_counted_ranks_equal_sorted_ranks(
    monkeypatch: pytest.MonkeyPatch, descending: bool
) -> None:
    """Up to 12 groups the ranks are counted (1 + the groups strictly ahead); beyond, they
    come from sorting. Both give the same ranks, ties included, for the same draws."""
    import analysis._ranks as ranks

    rng = np.random.default_rng(5)
    draws = np.round(rng.normal(size=(400, 7)), 1)  # rounded: many ties
    counted = ranks._ranks(draws, descending)
    monkeypatch.setattr(ranks, "_PAIRWISE_MAX_GROUPS", 0)
    sorted_ = ranks._ranks(draws, descending)
    assert np.array_equal(counted, sorted_)
    expected = stats.rankdata(-draws if descending else draws, method="min", axis=1)
    assert np.array_equal(counted, expected)
