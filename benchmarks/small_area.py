"""Simulation: small-area (Fay–Herriot) street estimates against the direct ones (issue 24).

Synthetic cities with known truth, one per seed: 6 districts x 12 streets; each street has a
population structure (share aged 60+), a true value per metric that depends on its district,
its structure and a street effect, a previous-period value close to it, and 2-4 collection
points with their own effects (clustering). Sample sizes are skewed (median about 25, some
streets with none), as on the dashboard. Per street and metric we compute

* the direct estimate (the street's mean) and
* the model estimate from ``analysis.small_area_estimates`` with the dashboard's settings:
  district effects, the previous-period direct estimate and the 60+ share as covariates,
  smoothed sampling variances ``within / n + between * sum_j (n_ij / n)^2`` from the city's
  nested variance components (``analysis.variance_components``: responses within points,
  points within streets), 95% normal intervals clipped to the metric's range.

Printed per metric: over the seeds, the median and the worst of (a) the MSE ratio
EBLUP / direct over streets with 1 <= n < 30, (b) the same for n >= 30, (c) the coverage of the
95% model interval for streets with n < 30, with n >= 30 and with no responses (synthetic);
and the coverage pooled over all seeds. Goal: coverage >= 90% and ratio (a) < 1.

Usage: ``python benchmarks/small_area.py [--seeds 200] [--streets-per-district 12]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import VarianceComponents
from analysis import small_area_estimates
from analysis import variance_components

DISTRICTS = 6


@dataclass(frozen=True)
class Metric:
    name: str
    rate: bool
    centre: float  # logit of the city rate, or the mean score
    street_sd: float
    point_sd: float
    unit_sd: float = 0.0  # scores only


METRICS = (
    Metric("awareness", True, 2.0, 0.45, 0.25),
    Metric("participation", True, 0.4, 0.40, 0.25),
    Metric("satisfaction", True, 1.6, 0.45, 0.25),
    Metric("satisfaction_score", False, 78.0, 5.0, 2.5, unit_sd=15.0),
)


def _expit(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _city(rng: np.random.Generator, per_district: int) -> pd.DataFrame:
    m = DISTRICTS * per_district
    district = np.repeat(np.arange(DISTRICTS), per_district)
    old = rng.uniform(0.12, 0.45, m)
    n = np.round(rng.lognormal(np.log(25), 0.9, m)).astype(int)
    n[rng.random(m) < 0.08] = 0
    n_prev = np.round(rng.lognormal(np.log(25), 0.9, m)).astype(int)
    return pd.DataFrame(
        {"street": np.arange(m), "district": district, "old": old, "n": n, "n_prev": n_prev}
    )


def _truth(rng: np.random.Generator, city: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    m = len(city)
    d_eff = rng.normal(0, metric.street_sd * 0.6, DISTRICTS)[city["district"]]
    slope = (1.5 if metric.rate else 15.0) * (city["old"].to_numpy() - 0.3)
    base = metric.centre + d_eff + slope + rng.normal(0, metric.street_sd, m)
    prev = base + rng.normal(0, metric.street_sd * 0.35, m)
    return pd.DataFrame(
        {"linear": base, "truth": expected_value(base, metric), "prev_linear": prev}
    )


def expected_value(linear: np.ndarray, metric: Metric) -> np.ndarray:
    """A street's true value: the expected response over point effects (and, for the score,
    over the residents, clipped to 0-100 as the responses are), by Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    if metric.rate:
        values = _expit(linear[:, None] + metric.point_sd * nodes[None, :])
        return np.asarray(values @ weights)
    sd = np.hypot(metric.unit_sd, metric.point_sd)
    mu = linear[:, None] + sd * nodes[None, :]
    return np.asarray(np.clip(mu, 0.0, 100.0) @ weights)


def _responses(
    rng: np.random.Generator, counts: np.ndarray, linear: np.ndarray, metric: Metric, tag: int
) -> pd.DataFrame:
    """Unit responses of every street (vectorised): street, point (PSU), value."""
    street = np.repeat(np.arange(len(counts)), counts)
    points = rng.integers(2, 5, len(counts))
    point_local = rng.integers(0, points[street]) if len(street) else street
    point = street * 8 + point_local
    point_effect = rng.normal(0, metric.point_sd, len(counts) * 8)[point]
    eta = linear[street] + point_effect
    if metric.rate:
        value = (rng.random(len(street)) < _expit(eta)).astype(float)
    else:
        value = np.clip(eta + rng.normal(0, metric.unit_sd, len(street)), 0, 100)
    return pd.DataFrame({"street": street, "point": point + tag, "value": value})


def _direct(resp: pd.DataFrame, m: int) -> np.ndarray:
    sums = np.bincount(resp["street"], resp["value"], minlength=m)
    counts = np.bincount(resp["street"], minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _components(resp: pd.DataFrame) -> VarianceComponents:
    """Within-point and between-point variance, from per-point sums (as the app has them)."""
    by_point = resp.groupby("point").agg(
        street=("street", "first"),
        n=("value", "size"),
        total=("value", "sum"),
        squares=("value", lambda v: float(np.sum(v * v))),
    )
    return variance_components(
        by_point["street"], by_point["n"], by_point["total"], by_point["squares"]
    )


def one_city(seed: int, per_district: int) -> pd.DataFrame:
    """Errors and interval hits of direct and model estimates for one city, all metrics."""
    rng = np.random.default_rng(seed)
    city = _city(rng, per_district)
    out = []
    for metric in METRICS:
        truth = _truth(rng, city, metric)
        resp = _responses(rng, city["n"].to_numpy(), truth["linear"].to_numpy(), metric, 0)
        prev_linear = truth["prev_linear"].to_numpy()
        prev = _responses(rng, city["n_prev"].to_numpy(), prev_linear, metric, 10**6)
        parts = _components(resp)
        areas = city.assign(
            direct=_direct(resp, len(city)),
            prev=_direct(prev, len(city)),
            concentration=parts.concentration.reindex(city["street"]).to_numpy(),
        ).set_index("street")
        res = small_area_estimates(
            areas,
            covariates=("prev", "old"),
            unit_variance=parts.within,
            cluster_variance=parts.between,
            concentration="concentration",
            bounds=(0.0, 1.0) if metric.rate else (0.0, 100.0),
        )
        fit = res.fit.areas
        t = truth["truth"].to_numpy()
        out.append(
            pd.DataFrame(
                {
                    "seed": seed,
                    "metric": metric.name,
                    "n": city["n"].to_numpy(),
                    "err_direct": (areas["direct"].to_numpy() - t) ** 2,
                    "err_model": (fit["estimate"].to_numpy() - t) ** 2,
                    "covered": (fit["lower"].to_numpy() <= t) & (t <= fit["upper"].to_numpy()),
                    "sigma_zero": res.fit.sigma2_u == 0.0,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _group(n: pd.Series) -> pd.Series:
    return pd.Series(
        np.select([n == 0, n < 30], ["n=0 (synthetic)", "1<=n<30"], "n>=30"), index=n.index
    )


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(group=_group(rows["n"]))
    per_seed = rows.groupby(["metric", "group", "seed"]).agg(
        mse_direct=("err_direct", "mean"),
        mse_model=("err_model", "mean"),
        cover=("covered", "mean"),
    )
    per_seed["ratio"] = per_seed["mse_model"] / per_seed["mse_direct"]
    table = per_seed.groupby(["metric", "group"]).agg(
        ratio_median=("ratio", "median"),
        ratio_worst=("ratio", "max"),
        cover_median=("cover", "median"),
        cover_worst=("cover", "min"),
    )
    pooled = rows.groupby(["metric", "group"]).agg(
        cover_pooled=("covered", "mean"),
        mse_direct=("err_direct", "mean"),
        mse_model=("err_model", "mean"),
        streets=("n", "size"),
    )
    table = table.join(pooled)
    table["ratio_pooled"] = table["mse_model"] / table["mse_direct"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--streets-per-district", type=int, default=12)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = pd.concat(
        [one_city(seed, args.streets_per_district) for seed in range(args.seeds)],
        ignore_index=True,
    )
    elapsed = time.perf_counter() - start
    table = summarise(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4).to_string())
    zero = rows.groupby(["metric", "seed"])["sigma_zero"].first().groupby("metric").mean()
    print("\nshare of cities where REML put the model variance at 0 (their intervals are the")
    print("narrow ones behind the worst coverages):", zero.round(3).to_dict())
    print(
        f"\n{args.seeds} cities x {DISTRICTS * args.streets_per_district} streets x "
        f"{len(METRICS)} metrics in {elapsed:.1f} s (machine shared)"
    )
    thin = table.xs("1<=n<30", level="group")
    ok = (thin["ratio_median"] < 1).all() and (table["cover_pooled"] >= 0.90).all()
    print(
        "goal (pooled coverage >= 0.90, median MSE ratio for n<30 < 1):", "met" if ok else "NOT met"
    )


if __name__ == "__main__":
    main()
