"""Generate the seeded synthetic survey data that R's reference numbers are computed on.

Run from the repository root:  python tests/analysis/reference/make_data.py
Writes survey.csv, population.csv (district x age_group x gender counts) and margins.csv
(long: margin, level, N) next to this file. Deterministic (numpy default_rng(20260522)).

Features: 6 districts (strata) with 1 to 9 collection points (clusters; district F has a
single point, a lonely PSU); weights vary by point and gender (constant within
cluster x weighting cell); 0/1 outcomes aware and participated and a 0-100 score with
missing values; the domain (district B, channel poster) has participated all 0 and the
domain (district C, channel wechat) has aware all 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20260522


def make() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    districts = {"A": 9, "B": 7, "C": 6, "D": 5, "E": 4, "F": 1}
    channels = ["wechat", "poster", "street", "door"]
    rows = []
    point_id = 0
    for district, n_points in districts.items():
        district_effect = rng.normal(0, 0.4)
        for _ in range(n_points):
            point_id += 1
            size = int(rng.integers(25, 70))
            base_w = float(rng.uniform(50, 400))
            point_effect = rng.normal(0, 0.5)
            for _ in range(size):
                gender = "m" if rng.random() < 0.47 else "f"
                age = rng.choice(["18-34", "35-59", "60+"], p=[0.3, 0.45, 0.25])
                channel = rng.choice(channels, p=[0.4, 0.2, 0.25, 0.15])
                week = int(rng.integers(1, 4))
                eta = 1.3 + district_effect + point_effect + 0.3 * (age == "60+")
                aware = float(rng.random() < 1 / (1 + np.exp(-eta)))
                participated = float(rng.random() < 1 / (1 + np.exp(-(eta - 1.6))))
                score = float(np.clip(rng.normal(72 + 8 * point_effect, 14), 0, 100).round())
                rows.append(
                    {
                        "district": district,
                        "point": f"P{point_id:02d}",
                        "channel": channel,
                        "week": week,
                        "age_group": age,
                        "gender": gender,
                        "weight": round(base_w * (1.15 if gender == "m" else 1.0), 6),
                        "aware": aware,
                        "participated": participated,
                        "score": score,
                    }
                )
    data = pd.DataFrame(rows)
    poster_b = (data.district == "B") & (data.channel == "poster")
    data.loc[poster_b, "participated"] = 0.0
    wechat_c = (data.district == "C") & (data.channel == "wechat")
    data.loc[wechat_c, "aware"] = 1.0
    for column, share in [("aware", 0.04), ("participated", 0.06), ("score", 0.08)]:
        missing = rng.random(len(data)) < share
        data.loc[missing, column] = np.nan
    # a cluster whose rows all miss the score: it still counts in the domain's df
    data.loc[data.point == "P03", "score"] = np.nan
    cells = data.groupby(["district", "age_group", "gender"]).size()
    population = (
        (cells * rng.uniform(300, 900, size=len(cells))).round().astype(int).rename("N")
    ).reset_index()
    margin_parts = []
    for var in ["district", "age_group", "gender"]:
        totals = population.groupby(var)["N"].sum()
        margin_parts.append(
            pd.DataFrame({"margin": var, "level": totals.index.astype(str), "N": totals.values})
        )
    margins = pd.concat(margin_parts, ignore_index=True)
    return data, population, margins


def main() -> None:
    data, population, margins = make()
    data.to_csv(HERE / "survey.csv", index=False)
    population.to_csv(HERE / "population.csv", index=False)
    margins.to_csv(HERE / "margins.csv", index=False)


if __name__ == "__main__":
    main()
