"""Make the seeded field sample behind ``make_reference.R`` (run from this directory).

A mock assessment of 4 districts: communities drawn with systematic PPS (seed 2026), one a
certainty unit; 8-20 interviews in each; the respondent's p = community probability x
interviews / community size; answers drawn so that districts, communities and age groups
differ. Writes sample.csv (one row per interview) and population.csv (age group x sex).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import pps_systematic

AGES = ("18-29", "30-39", "40-49", "50-59", "60+")
SEXES = ("male", "female")


def main() -> None:
    rng = np.random.default_rng(20261207)
    frame = pd.DataFrame(
        {
            "district": np.repeat(["d1", "d2", "d3", "d4"], 6),
            "community": [f"c{i:02d}" for i in range(24)],
            "size": rng.integers(800, 4000, 24).astype(float),
        }
    )
    frame.loc[0, "size"] = 30000.0  # a certainty unit in d1
    drawn = pps_systematic(frame, size="size", n=3, seed=2026, stratum="district")
    drawn = drawn[drawn["selected"]]
    rows = []
    for unit in drawn.itertuples(index=False):
        m = int(rng.integers(8, 21))
        p = unit.prob * m / unit.size
        level = rng.normal(0, 0.6)
        for _ in range(m):
            age = AGES[int(rng.integers(0, 5))]
            sex = SEXES[int(rng.integers(0, 2))]
            base = level + 0.2 * AGES.index(age) - 0.3
            items = rng.random(3) < 1 / (1 + np.exp(-base))
            k = int(rng.integers(1, 4))
            part = float(rng.random() < 0.4 + 0.1 * (sex == "female"))
            rows.append(
                {
                    "district": unit.district,
                    "community": unit.community,
                    "p": p,
                    "age_group": age,
                    "sex": sex,
                    "awareness": items[:k].mean(),
                    "participation": part if rng.random() > 0.1 else np.nan,
                    "satisfaction": float(rng.random() < 0.75),
                    "satisfaction_score": float(np.clip(rng.normal(78 + 8 * level, 12), 0, 100)),
                }
            )
    pd.DataFrame(rows).to_csv("sample.csv", index=False, float_format="%.17g")
    population = pd.DataFrame(
        [(a, s, int(rng.integers(20000, 60000))) for a in AGES for s in SEXES],
        columns=["age_group", "sex", "N"],
    )
    population.to_csv("population.csv", index=False)


if __name__ == "__main__":
    main()
