"""Systematic PPS with certainty selections: hand-worked probabilities, a replayed draw and
inclusion frequencies over 2,000 seeded draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis import pps_systematic


def test_probabilities_are_n_m_over_total() -> None:
    frame = pd.DataFrame({"size": [10.0, 20.0, 30.0, 40.0]})
    out = pps_systematic(frame, size="size", n=2, seed=1)
    assert out["prob"].tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8], abs=1e-15)
    assert not out["certainty"].any()
    assert out["selected"].sum() == 2


def test_certainty_units_are_taken_out_iteratively() -> None:
    # 3 x 600 / 1000 = 1.8 -> certain; then 2 x 300 / 400 = 1.5 -> certain;
    # then 1 x 50 / 100 = 0.5 for each of the last two.
    frame = pd.DataFrame({"size": [600.0, 300.0, 50.0, 50.0]})
    out = pps_systematic(frame, size="size", n=3, seed=3)
    assert out["certainty"].tolist() == [True, True, False, False]
    assert out["prob"].tolist() == pytest.approx([1.0, 1.0, 0.5, 0.5], abs=1e-15)
    assert out["selected"].sum() == 3
    assert out["selected"].iloc[:2].all()


def test_strata_are_drawn_separately() -> None:
    frame = pd.DataFrame(
        {"district": ["a", "a", "a", "b", "b"], "size": [50.0, 10.0, 40.0, 30.0, 70.0]}
    )
    out = pps_systematic(frame, size="size", n={"a": 1, "b": 1}, seed=5, stratum="district")
    assert out["prob"].tolist() == pytest.approx([0.5, 0.1, 0.4, 0.3, 0.7], abs=1e-15)
    assert out.groupby("district")["selected"].sum().tolist() == [1, 1]


def _by_hand(probs: list[float], u: float) -> list[bool]:
    """Systematic selection written as a loop: points u, u+1, ... on the cumulated line."""
    picked, start = [], 0.0
    points = [u + k for k in range(round(sum(probs)))]
    for p in probs:
        end = start + p
        picked.append(any(start <= x < end for x in points))
        start = end
    return picked


def test_draw_replays_from_the_seed() -> None:
    sizes = [12.0, 7.0, 30.0, 18.0, 9.0, 24.0]
    frame = pd.DataFrame({"size": sizes})
    first = pps_systematic(frame, size="size", n=3, seed=2026)
    again = pps_systematic(frame, size="size", n=3, seed=2026)
    assert first["selected"].tolist() == again["selected"].tolist()
    u = float(np.random.default_rng(2026).random(1)[0])
    probs = [3 * s / sum(sizes) for s in sizes]
    assert first["selected"].tolist() == _by_hand(probs, u)


def test_inclusion_frequencies_within_three_standard_errors() -> None:
    frame = pd.DataFrame(
        {
            "district": ["a"] * 7 + ["b"] * 5,
            "size": [900.0, 120, 80, 300, 45, 210, 160, 50, 75, 130, 95, 400],
        }
    )
    n = {"a": 3, "b": 2}
    draws = 2000
    hits = np.zeros(len(frame))
    for seed in range(draws):
        out = pps_systematic(frame, size="size", n=n, seed=seed, stratum="district")
        assert out.groupby("district")["selected"].sum().to_dict() == n
        hits += out["selected"].to_numpy()
    prob = out["prob"].to_numpy()
    assert out["certainty"].iloc[0]  # 3 x 900 / 1815 > 1
    freq = hits / draws
    se = np.sqrt(prob * (1 - prob) / draws)
    random_units = ~out["certainty"].to_numpy()
    assert np.all(freq[~random_units] == 1.0)
    assert np.all(np.abs(freq - prob)[random_units] <= 3 * se[random_units]), (freq, prob)


def test_bad_frames_are_refused() -> None:
    with pytest.raises(AnalysisError, match="above 0"):
        pps_systematic(pd.DataFrame({"size": [1.0, 0.0]}), size="size", n=1, seed=1)
    with pytest.raises(AnalysisError, match="fewer units"):
        pps_systematic(pd.DataFrame({"size": [1.0, 2.0]}), size="size", n=3, seed=1)
