"""Unit-level data for the push-channel design test (issue 24). Run from the repository root:
``python tests/survey/reporting/reference_push/make_data.py``; writes units.csv and
population.csv here. Then ``Rscript tests/survey/reporting/reference_push/make_reference.R``.

4 districts (strata 11-14); per district 3 place points of channel 1 (notice boards), one
place point of channel 3 (a school: one point per district, so that channel's own df is 0)
and one push point of channel 2 (a WeChat article). Metrics: awareness, participation (0/1),
satisfaction (0/1 with missing answers) and the 0-100 satisfaction score.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
AGES = ("18-34", "35-59", "60+")


def main() -> None:
    rng = np.random.default_rng(2024)
    rows = []
    point = 100
    for district in (11, 12, 13, 14):
        for channel, count, size in ((1, 3, 14), (3, 1, 9), (2, 1, 45)):
            for _ in range(count):
                point += 1
                effect = rng.normal(0, 0.5)
                for _ in range(int(rng.integers(size - 4, size + 5))):
                    rows.append((district, point, channel, effect))
    frame = pd.DataFrame(rows, columns=["district", "point", "channel", "effect"])
    m = len(frame)
    eta = 1.5 + frame["effect"].to_numpy()
    frame["age_group"] = rng.choice(AGES, m)
    frame["sex"] = rng.choice(("female", "male"), m)
    frame["awareness"] = (rng.random(m) < 1 / (1 + np.exp(-eta))).astype(int)
    frame["participation"] = (rng.random(m) < 1 / (1 + np.exp(-(eta - 1.5)))).astype(int)
    satisfied = (rng.random(m) < 1 / (1 + np.exp(-(eta - 0.5)))).astype(float)
    satisfied[rng.random(m) < 0.1] = np.nan
    frame["satisfaction"] = satisfied
    frame["satisfaction_score"] = np.round(np.clip(70 + 8 * eta + rng.normal(0, 12, m), 0, 100), 1)
    frame["response"] = np.arange(1, m + 1)
    frame = frame.drop(columns="effect")
    frame.to_csv(HERE / "units.csv", index=False)
    cells = [(d, a, s) for d in (11, 12, 13, 14) for a in AGES for s in ("female", "male")]
    population = pd.DataFrame(cells, columns=["stratum", "age_group", "sex"])
    population["N"] = rng.integers(5_000, 30_000, len(population))
    population.to_csv(HERE / "population.csv", index=False)


if __name__ == "__main__":
    main()
