"""Target status and the projected number of further responses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from analysis import AnalysisError
from analysis import mean_ci
from analysis import proportion_ci
from analysis import sample_size
from analysis import target_status

Z95 = 1.959963984540054


def _wilson_low_high(p: float, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def _first_deciding_n(p: float, target: float) -> int:
    """Smallest n at which the Wilson interval at a fixed estimate p excludes the target."""
    n = np.arange(1, 200_000, dtype=float)
    low, high = _wilson_low_high(p, n)
    decided = low >= target if p > target else high < target
    return int(n[np.argmax(decided)])


def test_status_rules_at_least() -> None:
    frame = pd.DataFrame(
        {
            "estimate": [0.95, 0.80, 0.90, 0.91, 0.88],
            "se": [0.01, 0.01, 0.02, 0.02, 0.01],
            "ci_low": [0.93, 0.78, 0.86, 0.90, 0.86],
            "ci_high": [0.97, 0.82, 0.94, 0.95, 0.90],
            "n": [500, 500, 200, 200, 900],
        },
        index=["met", "below", "straddles", "low at target", "high at target"],
    )
    got = target_status(frame, 0.9)
    assert got.status.tolist() == ["met", "not met", "undecided", "met", "undecided"]
    assert got.more_needed.tolist()[:2] == [0, 0]
    assert got.more_needed.iloc[3] == 0
    assert got.index.equals(frame.index)
    # The input columns are kept unchanged.
    assert got[frame.columns].equals(frame)


def test_status_rules_at_most_are_mirrored() -> None:
    frame = pd.DataFrame(
        {
            "estimate": [0.02, 0.08, 0.05, 0.04],
            "se": [0.005, 0.005, 0.01, 0.005],
            "ci_low": [0.01, 0.07, 0.03, 0.03],
            "ci_high": [0.03, 0.09, 0.07, 0.05],
            "n": [400, 400, 400, 400],
        }
    )
    got = target_status(frame, 0.05, direction="<=")
    assert got.status.tolist() == ["met", "not met", "undecided", "met"]


def test_symmetric_interval_matches_sample_size_formula() -> None:
    # A Wald interval has no skew term: n* is sample_size(|estimate - target|, p, deff).
    f = proportion_ci(85, 100, method="wald")
    got = target_status(f, 0.9)
    need = sample_size(0.05, p=0.85)
    assert got.status.iloc[0] == "undecided"
    assert got.more_needed.iloc[0] == need - 100


def test_design_effect_carries_through_the_standard_error() -> None:
    # A design-based row whose se includes deff = 2: n* = sample_size(d, p, deff=2).
    p, n, deff = 0.85, 400, 2.0
    se = np.sqrt(deff * p * (1 - p) / n)
    frame = pd.DataFrame(
        {
            "estimate": [p],
            "se": [se],
            "ci_low": [p - Z95 * se],
            "ci_high": [p + Z95 * se],
            "n": [n],
            "deff": [deff],
        }
    )
    got = target_status(frame, 0.88)
    assert got.more_needed.iloc[0] == sample_size(0.03, p=p, deff=deff) - n


@pytest.mark.parametrize(
    ("x", "n", "target"),
    [(95, 100, 0.9), (85, 100, 0.9), (97, 100, 0.95), (50, 100, 0.45), (18, 20, 0.8)],
)
def test_projection_close_to_exact_wilson_answer(x: int, n: int, target: float) -> None:
    got = target_status(proportion_ci(x, n), target)
    assert got.status.iloc[0] == "undecided"
    projected = n + int(got.more_needed.iloc[0])
    exact = _first_deciding_n(x / n, target)
    assert abs(projected - exact) <= 0.05 * exact + 1


@pytest.mark.parametrize(
    ("x", "n", "target", "direction"), [(20, 20, 0.9, ">="), (0, 20, 0.05, "<=")]
)
def test_edge_estimates_with_zero_se_still_get_a_projection(
    x: int, n: int, target: float, direction: str
) -> None:
    got = target_status(proportion_ci(x, n), target, direction=direction)
    assert got.status.iloc[0] == "undecided"
    projected = n + int(got.more_needed.iloc[0])
    exact = _first_deciding_n(x / n, target)
    assert abs(projected - exact) <= 0.15 * exact


def test_estimate_equal_to_target_has_no_projection() -> None:
    got = target_status(proportion_ci(180, 200), 0.9)
    assert got.status.iloc[0] == "undecided"
    assert got.more_needed.isna().iloc[0]
    assert "equals the target" in got.status_note.iloc[0]


def test_no_responses_is_undecided_with_reason() -> None:
    got = target_status(proportion_ci([0, 95], [0, 100]), 0.9)
    assert got.status.tolist() == ["undecided", "undecided"]
    assert got.more_needed.isna().tolist() == [True, False]
    assert "no estimate" in got.status_note.iloc[0]
    assert str(got.more_needed.dtype) == "Int64"


def test_mean_rows_use_the_t_quantile() -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"score": np.round(rng.normal(82, 12, 25), 1)})
    f = mean_ci(data, "score")
    target = float(f.estimate.iloc[0]) + 3.0
    got = target_status(f, target)
    assert got.status.iloc[0] == "undecided"
    # With df fixed, the symmetric t interval gives n* = n (t se / d)^2 exactly.
    from scipy import stats

    row = f.iloc[0]
    t = stats.t.ppf(0.975, row.df)
    want = int(np.ceil(row.n * (t * row.se / 3.0) ** 2 - row.n))
    assert got.more_needed.iloc[0] == want


def test_level_column_overrides_the_default() -> None:
    f = proportion_ci(85, 100, method="wald", level=0.9)
    a = target_status(f, 0.9, level=0.9)
    b = target_status(f.assign(level=0.9), 0.9)
    assert (
        a.more_needed.iloc[0] == b.more_needed.iloc[0] == sample_size(0.05, 0.85, level=0.9) - 100
    )


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"estimate": [0.5]}), {}, "lacks column"),
        (None, {"direction": ">"}, "unknown direction"),
        (None, {"target": float("nan")}, "finite"),
        (None, {"target": "ninety"}, "number"),
        (None, {"level": 2.0}, "level"),
    ],
)
def test_bad_input_raises(
    frame: pd.DataFrame | None, kwargs: dict[str, object], message: str
) -> None:
    data = proportion_ci(5, 10) if frame is None else frame
    args: dict[str, object] = {"target": 0.9, **kwargs}
    with pytest.raises(AnalysisError, match=message):
        target_status(data, **args)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=3000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.floats(min_value=0.01, max_value=0.99),
    st.sampled_from([">=", "<="]),
    st.sampled_from(["wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wald"]),
)
def test_status_properties(xn: tuple[int, int], target: float, direction: str, method: str) -> None:
    f = proportion_ci(xn[0], xn[1], method=method)
    got = target_status(f, target, direction=direction).iloc[0]
    inside = f.ci_low.iloc[0] < target < f.ci_high.iloc[0]
    if inside:
        assert got.status == "undecided"
    if got.status == "undecided":
        assert pd.isna(got.more_needed) or got.more_needed >= 1
        if f.estimate.iloc[0] != target:
            assert not pd.isna(got.more_needed)
    else:
        assert got.more_needed == 0
        above = f.ci_low.iloc[0] >= target if direction == ">=" else f.ci_high.iloc[0] <= target
        assert (got.status == "met") == above


def test_one_target_per_row_equals_one_call_per_target() -> None:
    frame = proportion_ci([80, 45, 95, 10], [100, 50, 100, 12])
    targets = [0.9, 0.8, 0.9, 0.5]
    together = target_status(frame, targets)
    for i, target in enumerate(targets):
        alone = target_status(frame.iloc[[i]], target)
        for column in ("status", "more_needed", "status_note"):
            assert together[column].iloc[i] == alone[column].iloc[0] or (
                pd.isna(together[column].iloc[i]) and pd.isna(alone[column].iloc[0])
            )
    with pytest.raises(AnalysisError, match="one number per row"):
        target_status(frame, [0.9, 0.8])
