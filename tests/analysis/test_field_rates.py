"""AAPOR outcome rates and the interviewer effect on hand-worked examples."""

from __future__ import annotations

from fractions import Fraction
from math import sqrt

import pandas as pd
import pytest

from analysis import AnalysisError
from analysis import aapor_rates
from analysis import interviewer_effect

COUNTS = pd.DataFrame(
    [
        {
            "complete": 400,
            "partial": 50,
            "refusal": 100,
            "non_contact": 150,
            "other": 20,
            "unknown": 200,
            "not_eligible": 80,
        }
    ]
)


def _wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_rates_equal_the_hand_worked_example() -> None:
    out = aapor_rates(COUNTS).iloc[0]
    # RR1 = I / ((I+P) + (R+NC+O) + U) = 400 / (450 + 270 + 200) = 400 / 920
    assert out["rr1"] == pytest.approx(400 / 920, abs=1e-15)
    assert out["rr1_n"] == 920
    # e = (I+P+R+NC+O) / (... + NE) = 720 / 800 = 0.9; RR3 = 400 / (720 + 0.9 * 200) = 400/900
    assert out["e"] == pytest.approx(0.9, abs=1e-15)
    assert out["rr3"] == pytest.approx(400 / 900, abs=1e-15)
    # COOP1 = I / ((I+P) + R + O) = 400 / 570
    assert out["coop1"] == pytest.approx(400 / 570, abs=1e-15)
    low, high = _wilson(400, 920)
    assert (out["rr1_low"], out["rr1_high"]) == pytest.approx((low, high), abs=1e-12)


def test_a_stated_e_is_used() -> None:
    out = aapor_rates(COUNTS, e=0.5).iloc[0]
    assert out["rr3"] == pytest.approx(400 / 820, abs=1e-15)
    assert out["rr1"] <= out["rr3"]


def test_missing_columns_count_zero_and_empty_groups_are_nan() -> None:
    out = aapor_rates(pd.DataFrame({"complete": [3, 0], "non_contact": [2, 0]}))
    assert out["rr1"].iloc[0] == pytest.approx(0.6)
    assert out["coop1"].iloc[0] == pytest.approx(1.0)
    assert out["rr1"].isna().iloc[1]
    with pytest.raises(AnalysisError):
        aapor_rates(pd.DataFrame({"complete": [-1]}))
    with pytest.raises(AnalysisError):
        aapor_rates(COUNTS, e=1.5)


def test_interviewer_effect_equals_the_anova_by_hand() -> None:
    data = pd.DataFrame(
        {
            "who": ["A"] * 3 + ["B"] * 2 + ["C"] * 4 + ["D"],
            "aware": [1, 1, 0, 0, 0, 1, 0, 1, 1, None],
        }
    )
    # D has no answer and is left out: k = 3 interviewers, N = 9.
    # Means A 2/3, B 0, C 3/4; grand 5/9.
    msb = (3 * Fraction(1, 9) ** 2 + 2 * Fraction(5, 9) ** 2 + 4 * Fraction(7, 36) ** 2) / 2
    msw = (Fraction(2, 3) + Fraction(3, 4)) / (9 - 3)
    m0 = (9 - Fraction(9 + 4 + 16, 9)) / 2
    rho = (msb - msw) / (msb + (m0 - 1) * msw)
    out = interviewer_effect(data, interviewer="who", outcomes=["aware"]).loc["aware"]
    assert out["interviewers"] == 3 and out["n"] == 9
    assert out["rho"] == pytest.approx(float(rho), abs=1e-14)
    assert out["deff"] == pytest.approx(float(1 + rho * 2), abs=1e-14)


def test_interviewer_effect_needs_two_interviewers() -> None:
    data = pd.DataFrame({"who": ["A", "A"], "y": [1.0, 0.0]})
    out = interviewer_effect(data, interviewer="who", outcomes=["y"]).loc["y"]
    assert pd.isna(out["rho"])
