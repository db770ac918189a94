"""Seeded simulation: the nominal 95% Wilson interval covers the true proportion 93-97%."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis import proportion_ci

# (n, p) pairs of moderate size; the exact coverage of each is about 0.94-0.95.
CASES = [(200, 0.3), (150, 0.4), (80, 0.85)]


@pytest.mark.parametrize(("n", "p"), CASES)
def test_wilson_simulated_coverage(n: int, p: float) -> None:
    rng = np.random.default_rng(20240501 + n)
    replicates = 5000
    x = rng.binomial(n, p, size=replicates)
    f = proportion_ci(x, n, method="wilson", level=0.95)
    coverage = float(((f.ci_low <= p) & (p <= f.ci_high)).mean())
    assert 0.93 <= coverage <= 0.97


@pytest.mark.parametrize(("n", "p"), CASES)
def test_wilson_exact_coverage(n: int, p: float) -> None:
    # The same check without simulation noise: sum the binomial probabilities of the
    # outcomes whose interval covers p.
    x = np.arange(n + 1)
    f = proportion_ci(x, n, method="wilson")
    covers = ((f.ci_low <= p) & (p <= f.ci_high)).to_numpy()
    coverage = float(stats.binom.pmf(x, n, p)[covers].sum())
    assert 0.93 <= coverage <= 0.97


def test_wald_undercovers_where_wilson_does_not() -> None:
    # Brown, Cai & DasGupta (2001), section 2.1: Wald coverage collapses for small n p.
    n, p = 30, 0.05
    x = np.arange(n + 1)
    pmf = stats.binom.pmf(x, n, p)
    cover = {}
    for method in ("wald", "wilson"):
        f = proportion_ci(x, n, method=method)
        cover[method] = float(pmf[((f.ci_low <= p) & (p <= f.ci_high)).to_numpy()].sum())
    assert cover["wald"] < 0.85
    assert cover["wilson"] > 0.93
