"""Benchmark of the design-based estimates (issue 5).

10,000,000 synthetic responses: 20 districts (strata), 2,000 collection points (clusters,
100 per district), 8 channels, 26 weeks, 3 outcomes (aware, participated, satisfied; 0/1
with a few missing values), 16 weighting cells (8 age groups x 2 genders; weights constant
within point x cell, post-stratified to cell totals).

Times, in one run:
  (a) design-based estimates with logit intervals of the three outcomes by
      district x channel x week from the unit-level frame (design + post-stratification +
      estimates);
  (b) the same from aggregated sufficient statistics (one row per district, channel,
      week, point, cell; the aggregation itself is the database's GROUP BY and is not
      timed);
  (c) the floor: pandas ``groupby([district, channel, week]).mean()`` of the three outcomes.
and prints (a)/(c), (b)/(c) and the peak memory. Goal: (a)/(c) <= 3, peak < 4 GB.

When ``Rscript`` is on PATH it also times R's
``svyby(~aware, ~district+channel, des, svyciprop, method="logit")`` on a post-stratified
200,000-row sample against ours on the same rows, and prints the speed ratio and the
largest differences. Usage: ``python benchmarks/analysis.py [--rows N] [--no-r]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import AggregateOutcome
from analysis import design_from_aggregates
from analysis import design_from_units
from analysis import poststratify
from analysis import svy_estimate
from analysis._estimate import estimate_many

OUTCOMES = ["aware", "participated", "satisfied"]
BY = ["district", "channel", "week"]
SEED = 20260522


def make_data(n_rows: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic responses and the population counts of the 16 cells."""
    rng = np.random.default_rng(seed)
    n_points = 2000
    point = rng.integers(0, n_points, n_rows).astype(np.int16)
    district = (point // 100).astype(np.int8)
    channel = rng.integers(0, 8, n_rows).astype(np.int8)
    week = rng.integers(1, 27, n_rows).astype(np.int8)
    cell = rng.integers(0, 16, n_rows).astype(np.int8)
    point_effect = rng.normal(0.0, 0.5, n_points)[point]
    base_w = rng.uniform(50.0, 400.0, n_points)
    cell_w = rng.uniform(0.7, 1.4, 16)
    weight = base_w[point] * cell_w[cell]
    frame = pd.DataFrame(
        {
            "district": district,
            "point": point,
            "channel": channel,
            "week": week,
            "cell": cell,
            "weight": weight,
        }
    )
    for i, name in enumerate(OUTCOMES):
        eta = 1.2 - 0.8 * i + point_effect + 0.05 * (channel - 4)
        y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
        y[rng.random(n_rows) < 0.02] = np.nan
        frame[name] = y
    counts = np.bincount(cell, minlength=16)
    population = pd.DataFrame(
        {"cell": np.arange(16), "N": np.round(counts * rng.uniform(80, 120, 16)).astype(int)}
    )
    return frame, population


def aggregate(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, AggregateOutcome]]:
    """What the database's GROUP BY returns (not timed)."""
    keys = [*BY, "point", "cell", "weight"]
    parts = {}
    for name in OUTCOMES:
        y = frame[name]
        parts[f"{name}_n"] = y.notna().astype(np.int64)
        parts[f"{name}_sum"] = y.fillna(0.0)
    extra = pd.DataFrame(parts)
    grouped = pd.concat([frame[keys], extra], axis=1).groupby(keys, sort=False, observed=True)
    agg = grouped.sum()
    agg.insert(0, "n", grouped.size())
    agg = agg.reset_index()
    specs = {}
    for name in OUTCOMES:
        agg[f"{name}_sum2"] = agg[f"{name}_sum"]  # 0/1 outcomes: y^2 = y
        specs[name] = AggregateOutcome(f"{name}_sum", f"{name}_sum2", f"{name}_n")
    return agg, specs


def run_units(frame: pd.DataFrame, population: pd.DataFrame) -> list[pd.DataFrame]:
    design = design_from_units(frame, strata="district", psu="point", weights="weight")
    design = poststratify(design, population)
    return estimate_many(design, OUTCOMES, BY, method="logit", level=0.95)


def run_aggregates(
    agg: pd.DataFrame, specs: dict[str, AggregateOutcome], population: pd.DataFrame
) -> list[pd.DataFrame]:
    design = design_from_aggregates(
        agg, strata="district", psu="point", weights="weight", outcomes=specs
    )
    design = poststratify(design, population)
    return estimate_many(design, OUTCOMES, BY, method="logit", level=0.95)


def timed(label: str, func, repeat: int = 3):  # type: ignore[no-untyped-def]
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<58} {best:8.3f} s")
    return best, result


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); pop <- read.csv(args[2])
d$district <- factor(d$district); d$channel <- factor(d$channel); d$cell <- factor(d$cell)
pop$cell <- factor(pop$cell); names(pop)[names(pop) == "N"] <- "Freq"
options(survey.lonely.psu = "adjust")
t0 <- proc.time()[["elapsed"]]
des <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = d)
des <- postStratify(des, ~cell, pop)
b <- svyby(~aware, ~district + channel, des, svyciprop, method = "logit", na.rm = TRUE,
           vartype = c("se", "ci"))
elapsed <- proc.time()[["elapsed"]] - t0
out <- data.frame(district = b$district, channel = b$channel,
                  estimate = sprintf("%.17g", coef(b)), se = sprintf("%.17g", SE(b)),
                  ci_low = sprintf("%.17g", b$ci_l), ci_high = sprintf("%.17g", b$ci_u))
write.csv(out, args[3], row.names = FALSE)
cat(sprintf("%.6f\n", elapsed))
"""


def compare_with_r(frame: pd.DataFrame, population: pd.DataFrame, n_sample: int) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R comparison skipped: Rscript not found")
        return
    rng = np.random.default_rng(SEED + 1)
    rows = np.sort(rng.choice(len(frame), size=n_sample, replace=False))
    sample = frame.iloc[rows].reset_index(drop=True)
    pop = sample.groupby("cell").size().rename("N").reset_index()
    pop["N"] = np.round(pop["N"] * 100.0).astype(int)
    with tempfile.TemporaryDirectory() as tmp:
        data_csv, pop_csv, out_csv = (Path(tmp) / f for f in ("d.csv", "p.csv", "r.csv"))
        sample.to_csv(data_csv, index=False, float_format="%.17g")
        pop.to_csv(pop_csv, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            [rscript, str(script), str(data_csv), str(pop_csv), str(out_csv)],
            capture_output=True,
            text=True,
            check=True,
        )
        r_seconds = float(proc.stdout.strip().splitlines()[-1])
        r_out = pd.read_csv(out_csv)

    def ours() -> pd.DataFrame:
        design = design_from_units(sample, strata="district", psu="point", weights="weight")
        design = poststratify(design, pop)
        return svy_estimate(design, "aware", ["district", "channel"], method="logit")

    py_seconds, res = timed(
        f"ours on the same {n_sample:,} rows (aware by district x channel)", ours, repeat=5
    )
    print(f"{'R svyby(svyciprop, method=logit) on the same rows':<58} {r_seconds:8.3f} s")
    merged = res.merge(r_out, on=["district", "channel"], suffixes=("", "_r"))
    print(f"speed ratio R / ours: {r_seconds / py_seconds:,.0f}x  (goal >= 100x)")
    for column in ("estimate", "se", "ci_low", "ci_high"):
        diff = np.nanmax(np.abs(merged[column] - merged[f"{column}_r"]))
        print(f"max |ours - R| {column:<9} {diff:.3e}  ({len(merged)} groups)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--r-rows", type=int, default=200_000)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    print(f"generating {args.rows:,} rows ...", flush=True)
    frame, population = make_data(args.rows)
    agg, specs = aggregate(frame)
    print(f"aggregated input: {len(agg):,} rows (district, channel, week, point, cell)")
    t_c, _ = timed(
        "(c) pandas groupby(district, channel, week).mean() floor",
        lambda: frame.groupby(BY)[OUTCOMES].mean(),
    )
    t_a, res_a = timed(
        "(a) design-based, unit-level rows, logit intervals", lambda: run_units(frame, population)
    )
    t_b, res_b = timed(
        "(b) design-based, aggregated input, logit intervals",
        lambda: run_aggregates(agg, specs, population),
    )
    print(f"(a)/(c) = {t_a / t_c:.2f}   (goal <= 3)")
    print(f"(b)/(c) = {t_b / t_c:.2f}")
    worst = 0.0
    for left, right in zip(res_a, res_b, strict=True):
        for column in ("estimate", "se", "ci_low", "ci_high", "deff"):
            a, b = left[column].to_numpy(), right[column].to_numpy()
            ok = np.isfinite(a) & np.isfinite(b)
            worst = max(
                worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))
            )
    print(f"groups per outcome: {len(res_a[0]):,}; max relative difference (a) vs (b): {worst:.2e}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (ru_maxrss): {peak_mb:,.0f} MB   (goal < 4,096 MB)")
    if not args.no_r:
        compare_with_r(frame, population, args.r_rows)


if __name__ == "__main__":
    main()
