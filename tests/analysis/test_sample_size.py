"""Sample-size planning and stratum allocation against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from analysis import AnalysisError
from analysis import allocate
from analysis import sample_size

Z95 = 1.959963984540054


def test_brief_example() -> None:
    # ceil(1.959964^2 * 0.9 * 0.1 * 1.5 / 0.03^2) = ceil(576.24) = 577
    assert sample_size(0.03, p=0.9, deff=1.5) == 577
    assert math.ceil(Z95**2 * 0.9 * 0.1 * 1.5 / 0.03**2) == 577


@pytest.mark.parametrize(
    ("margin", "p", "deff", "level", "want"),
    [
        (0.05, 0.5, 1.0, 0.95, 385),  # 384.15: the textbook 385
        (0.03, 0.5, 1.0, 0.95, 1068),  # 1067.07
        (0.05, 0.5, 2.0, 0.95, 769),  # 768.29
        (0.02, 0.9, 1.0, 0.95, 865),  # 864.33
        (0.05, 0.5, 1.0, 0.90, 271),  # 1.644854^2 * 0.25 / 0.0025 = 270.55
        (0.05, 0.5, 1.0, 0.99, 664),  # 2.575829^2 * 0.25 / 0.0025 = 663.49
    ],
)
def test_hand_worked_values(margin: float, p: float, deff: float, level: float, want: int) -> None:
    assert sample_size(margin, p=p, deff=deff, level=level) == want


def test_finite_population_correction() -> None:
    # n0 = 384.146; n = n0 / (1 + (n0 - 1)/N): N = 1000 -> 277.71 -> 278; N = 200 -> 131.7 -> 132.
    n0 = Z95**2 * 0.25 / 0.05**2
    assert sample_size(0.05, population=1000) == math.ceil(n0 / (1 + (n0 - 1) / 1000)) == 278
    assert sample_size(0.05, population=200) == 132
    # Never more than the population, and a census of a tiny population.
    assert sample_size(0.001, population=50) == 50
    assert sample_size(0.05, population=1) == 1


def test_exact_products_are_not_rounded_up() -> None:
    # margin chosen so that n0 is 400 in exact arithmetic: z^2 * 0.25 / m^2 = 400.
    margin = Z95 * 0.5 / 20
    assert sample_size(margin) == 400


def test_vectorised_shapes() -> None:
    got = sample_size(np.array([0.03, 0.05]), p=np.array([0.9, 0.5]))
    assert isinstance(got, np.ndarray)
    assert got.tolist() == [385, 385]  # 0.03/0.9: 384.15 as well
    s = sample_size(pd.Series([0.03, 0.05], index=["东城", "西城"]), deff=1.5)
    assert isinstance(s, pd.Series)
    assert s.index.tolist() == ["东城", "西城"]
    assert s.tolist() == [1601, 577]
    assert isinstance(sample_size(0.05), int)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0.0}, "margin"),
        ({"margin": -0.03}, "margin"),
        ({"margin": 0.03, "p": 0.0}, "p must"),
        ({"margin": 0.03, "p": 1.0}, "p must"),
        ({"margin": 0.03, "p": 1.2}, "p must"),
        ({"margin": 0.03, "deff": 0.0}, "deff"),
        ({"margin": 0.03, "deff": -1.0}, "deff"),
        ({"margin": 0.03, "level": 1.0}, "level"),
        ({"margin": 0.03, "population": 0}, "population"),
        ({"margin": 0.03, "population": 10.5}, "whole"),
        ({"margin": [0.03, 0.05], "p": [0.5, 0.5, 0.5]}, "incompatible"),
        ({"margin": np.nan}, "margin"),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        sample_size(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    margin=st.floats(min_value=0.005, max_value=0.3),
    p=st.floats(min_value=0.01, max_value=0.99),
    deff=st.floats(min_value=0.5, max_value=5.0),
)
def test_the_planned_margin_is_met(margin: float, p: float, deff: float) -> None:
    n = sample_size(margin, p=p, deff=deff)
    assert isinstance(n, int)
    assert Z95 * math.sqrt(deff * p * (1 - p) / n) <= margin * (1 + 1e-9)
    if n > 1:
        assert Z95 * math.sqrt(deff * p * (1 - p) / (n - 1)) > margin * (1 - 1e-9)


# --- allocation -------------------------------------------------------------------------


def test_proportional_by_hand() -> None:
    # 1000 over 5000/3000/2000 -> 500/300/200 exactly.
    assert allocate(1000, [5000, 3000, 2000]).tolist() == [500, 300, 200]
    # 10 over three equal strata: 3.33 each, the one left over goes to the first.
    assert allocate(10, [100, 100, 100]).tolist() == [4, 3, 3]
    # 100 over 1/2/3/4 (x 100): 10, 20, 30, 40.
    assert allocate(100, [100, 200, 300, 400]).tolist() == [10, 20, 30, 40]


def test_largest_remainder_rule() -> None:
    # Shares 7 * (0.45, 0.35, 0.2) = 3.15, 2.45, 1.4: floors 3, 2, 1 and one left over to the
    # largest remainder (0.45, the second stratum).
    assert allocate(7, [450, 350, 200]).tolist() == [3, 3, 1]


def test_neyman_by_hand() -> None:
    # N_h S_h = 1000*0.5, 1000*0.3, 2000*0.1 = 500, 300, 200 -> 50%, 30%, 20% of 200.
    got = allocate(200, [1000, 1000, 2000], method="neyman", stratum_sd=[0.5, 0.3, 0.1])
    assert got.tolist() == [100, 60, 40]


def test_neyman_caps_at_stratum_size() -> None:
    # Weights 100*1, 5*10, 300*0.1 = 100, 50, 30; stratum b would get 27.8 > 5: it is taken
    # whole and the other 95 go 100:30 -> 73.08, 21.92.
    sizes = pd.Series([100, 5, 300], index=["a", "b", "c"])
    got = allocate(100, sizes, method="neyman", stratum_sd=[1, 10, 0.1])
    assert isinstance(got, pd.Series)
    assert got.to_dict() == {"a": 73, "b": 5, "c": 22}


def test_zero_sd_strata_get_nothing_under_neyman() -> None:
    assert allocate(8, [2, 10, 100], method="neyman", stratum_sd=[1, 1, 0]).tolist() == [1, 7, 0]


def test_neyman_overflow_goes_to_zero_sd_strata_by_size() -> None:
    # Stratum a (the only S_h > 0) is taken whole; the other 10 go 40:60 to b and c.
    got = allocate(60, [50, 40, 60], method="neyman", stratum_sd=[1.0, 0.0, 0.0])
    assert got.tolist() == [50, 4, 6]


def test_allocating_nothing() -> None:
    assert allocate(0, [10, 20]).tolist() == [0, 0]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((10, [5, 4]), {}, "exceeds"),
        ((10, [50, 40]), {"method": "optimal"}, "unknown allocation method"),
        ((10, [50, 40]), {"method": "neyman"}, "needs stratum_sd"),
        ((10, [50, 40]), {"method": "neyman", "stratum_sd": [1.0]}, "one value per stratum"),
        ((10, [50, 40]), {"method": "neyman", "stratum_sd": [-1.0, 1.0]}, "non-negative"),
        ((10, [50, 40]), {"method": "neyman", "stratum_sd": [0.0, 0.0]}, "positive"),
        ((10.5, [50, 40]), {}, "whole"),
        ((-1, [50, 40]), {}, "non-negative"),
        ((10, [50, -40]), {}, "non-negative"),
    ],
)
def test_bad_allocation_raises(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(AnalysisError, match=message):
        allocate(*args, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30),
    frac=st.floats(min_value=0.0, max_value=1.0),
    sds=st.lists(st.floats(min_value=0.01, max_value=50.0), min_size=30, max_size=30),
    method=st.sampled_from(["proportional", "neyman"]),
)
def test_allocation_properties(
    sizes: list[int], frac: float, sds: list[float], method: str
) -> None:
    total = int(frac * sum(sizes))
    sd = sds[: len(sizes)]
    got = allocate(total, sizes, method=method, stratum_sd=sd if method == "neyman" else None)
    assert got.dtype == np.int64
    assert int(got.sum()) == total
    assert (got >= 0).all()
    assert (got <= np.array(sizes)).all()
    if method == "proportional" and sum(sizes) > 0:
        exact = total * np.array(sizes) / sum(sizes)
        assert (np.abs(got - exact) < 1).all()
