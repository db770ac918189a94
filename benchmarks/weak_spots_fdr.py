"""Weak spots: false-discovery rate under the null, and power with seeded gaps.

``.venv/bin/python benchmarks/weak_spots_fdr.py [--runs 200] [--seed 27] [--level 0.10]``

Each run draws a city shaped like the demo (4 districts = strata; 3 streets each; 6
collection points per street = clusters, plus 6 district-wide points per district whose
responses count in the city but belong to no street, with the demo's relative volumes;
3,000 responses; 8 satisfaction items
answered from one latent opinion per respondent, so the items are correlated; a random
effect per collection point, sd 0.3 on the logit scale; 3% 不了解 answers). Under the null no
street differs from the city in expectation: the point effects are drawn afresh each run, so
a street's finite-population share wobbles around the city's, as it does in reality. The
weak-spot rule of ``survey.reporting.weak_spots`` is applied: ``analysis.svy_gaps`` per
street x item (one-sided, "below the city"), streets with fewer than 30 answers left out,
Benjamini-Hochberg at ``--level`` over the 96 street x item tests.

Printed: the FDR (mean of false discoveries / max(discoveries, 1)) with its 95% interval, the
share of runs with any false discovery (under the complete null this equals the FDR), the
false-positive rate per test, and, in a second simulation with three street x item pairs
seeded 1.5 logits lower (as the demo), the power per seeded pair and the FDR among the
other 93 pairs. Times are same-run only (the machine is shared).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# run as a script: benchmarks/ (with its own analysis.py) must not shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

import analysis as A  # noqa: E402

DISTRICTS, STREETS = 4, 3
#: Relative volumes of the demo's collection points (survey/demo.py): per street a market,
#: a school, a service window, door-to-door visits and two community notice boards; per
#: district a WeChat article, the mobile paper, a hospital, a bus station, an industrial
#: park and the government service centre.
STREET_POINTS = (1.0, 1.5, 0.8, 1.4, 1.0, 1.0)
DISTRICT_POINTS = (6.0, 1.2, 0.7, 0.8, 1.0, 0.8)
ITEMS = 8
N = 3000
MIN_N = 30
SEEDED = {(1, 0): -1.5, (4, 1): -1.5, (8, 2): -1.5}  # (street, item) -> logit shift


def _city(rng: np.random.Generator) -> pd.DataFrame:
    """Points: district, street (-1 for district-wide points), volume."""
    rows = []
    for d in range(DISTRICTS):
        for s in range(STREETS):
            rows += [(d, d * STREETS + s, v) for v in STREET_POINTS]
        rows += [(d, -1, v) for v in DISTRICT_POINTS]
    frame = pd.DataFrame(rows, columns=["district", "street", "volume"])
    frame["effect"] = rng.normal(0.0, 0.3, len(frame))
    return frame


def _responses(rng: np.random.Generator, shifts: dict[tuple[int, int], float]) -> pd.DataFrame:
    city = _city(rng)
    pick = rng.choice(len(city), size=N, p=city["volume"] / city["volume"].sum())
    latent = rng.normal(0.0, 0.8, N) + city["effect"].to_numpy()[pick]
    street = city["street"].to_numpy()[pick]
    data = pd.DataFrame(
        {"district": city["district"].to_numpy()[pick], "point": pick, "street": street}
    )
    for item in range(ITEMS):
        logit = 1.0 + latent + rng.normal(0.0, 0.5, N)
        for (s, i), shift in shifts.items():
            if i == item:
                logit = logit + np.where(street == s, shift, 0.0)
        y = (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(float)
        y[rng.random(N) < 0.03] = np.nan  # 不了解
        data[f"item{item}"] = y
    data.loc[data["street"] < 0, "street"] = np.nan  # district-wide: in the city, no street
    return data


def _weak(data: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Rejected flags and (street, item) keys of the tested pairs."""
    design = A.design_from_units(data, strata="district", psu="point")
    outcomes = [f"item{i}" for i in range(ITEMS)]
    gaps = A.svy_gaps(design, outcomes, "street")
    frames = []
    for i, name in enumerate(outcomes):
        frame = gaps[name].assign(item=i)
        frames.append(frame[(frame["n"] >= MIN_N) & frame["p_value"].notna()])
    table = pd.concat(frames, ignore_index=True)
    rejected, _ = A.benjamini_hochberg(table["p_value"].to_numpy(), level)
    weak = rejected & (table["gap"].to_numpy() < 0)
    keys = np.column_stack([table["street"].to_numpy(int), table["item"].to_numpy(int)])
    return weak, keys


def _simulate(runs: int, seed: int, level: float, shifts: dict[tuple[int, int], float]) -> dict:
    fdp, any_false, false_tests, tests = [], 0, 0, 0
    hits = dict.fromkeys(shifts, 0)
    for run in range(runs):
        rng = np.random.default_rng([seed, run])
        weak, keys = _weak(_responses(rng, shifts), level)
        true = np.array([(int(s), int(i)) in shifts for s, i in keys], dtype=bool)
        false = int((weak & ~true).sum())
        fdp.append(false / max(int(weak.sum()), 1))
        any_false += false > 0
        false_tests += false
        tests += int((~true).sum())
        for (s, i), w in zip(map(tuple, keys), weak, strict=True):
            if (s, i) in hits and w:
                hits[(s, i)] += 1
    fdr = float(np.mean(fdp))
    half = 1.96 * float(np.std(fdp, ddof=1)) / np.sqrt(runs) if runs > 1 else float("nan")
    return {
        "fdr": fdr,
        "fdr_ci": (fdr - half, fdr + half),
        "any_false": any_false / runs,
        "per_test": false_tests / max(tests, 1),
        "power": {k: v / runs for k, v in hits.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--level", type=float, default=0.10)
    args = parser.parse_args()
    start = time.perf_counter()
    null = _simulate(args.runs, args.seed, args.level, {})
    mid = time.perf_counter()
    seeded = _simulate(args.runs, args.seed + 1, args.level, SEEDED)
    end = time.perf_counter()
    print(
        f"weak spots, {args.runs} seeded runs per simulation, BH level {args.level:.2f}, "
        f"{DISTRICTS * STREETS} streets x {ITEMS} items, {N} responses per run"
    )
    low, high = null["fdr_ci"]
    print(
        f"null (no real gaps): FDR {null['fdr']:.3f} (95% CI {low:.3f}-{high:.3f}); "
        f"runs with any false discovery {null['any_false']:.3f}; "
        f"false-positive rate per test {null['per_test']:.4f}"
    )
    low, high = seeded["fdr_ci"]
    power = ", ".join(f"street {s} item {i}: {p:.2f}" for (s, i), p in seeded["power"].items())
    print(
        f"three seeded gaps (-1.5 logit): FDR {seeded['fdr']:.3f} (95% CI {low:.3f}-{high:.3f}); "
        f"power {power}"
    )
    print(
        f"time: null {mid - start:.1f} s, seeded {end - mid:.1f} s "
        f"({(mid - start) / args.runs * 1000:.0f} ms per run; shared machine)"
    )


if __name__ == "__main__":
    main()
