"""Population counts as weighting targets: cells for post-stratification, margins for raking.

Counts are stored per region x age group x sex (``PopulationCount``); weighting uses the
district rows (the district is the design stratum). Cells are listed in a fixed order, which
decides which neighbours a sparse cell is merged with (``analysis.poststratify``): by district
id, then age group, then sex (codes in text order, so ``18-29`` ... ``60+``, ``female``,
``male``). Merges thus join the two sexes of an age group first, then adjacent age groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import PopulationCount

#: Raking margins, in the order they are raked.
RAKING_MARGINS: tuple[str, ...] = ("stratum", "age_group", "sex")


def population_counts(bind: Session | Connection, district_ids: Sequence[int]) -> pd.DataFrame:
    """Counts of the given districts: columns ``stratum, age_group, sex, N`` in cell order."""
    if not district_ids:
        return pd.DataFrame(columns=["stratum", "age_group", "sex", "N"])
    rows = bind.execute(
        select(
            PopulationCount.region_id,
            PopulationCount.age_group,
            PopulationCount.sex,
            PopulationCount.count,
        ).where(PopulationCount.region_id.in_(sorted(set(district_ids))))
    ).all()
    frame = pd.DataFrame.from_records(rows, columns=["stratum", "age_group", "sex", "N"])
    frame = frame.sort_values(["stratum", "age_group", "sex"], kind="stable")
    return frame.reset_index(drop=True).astype({"stratum": "int64", "N": "int64"})


def cells_by_period(population: pd.DataFrame, periods: Sequence[int]) -> pd.DataFrame:
    """Post-stratification cells ``period, stratum, age_group, sex, N``: the population is
    the same in every period, so each period is calibrated to it on its own."""
    parts = [population.assign(period=p) for p in sorted(periods)]
    if not parts:
        return pd.DataFrame(columns=["period", "stratum", "age_group", "sex", "N"])
    cells = pd.concat(parts, ignore_index=True)
    return cells[["period", "stratum", "age_group", "sex", "N"]]


def margin_key(period: object, value: object) -> str:
    """Label of a raking margin level within a period (margins are per period)."""
    return f"{period}|{value}"


def raking_margins(population: pd.DataFrame, periods: Sequence[int]) -> pd.DataFrame:
    """Margins ``margin, level, N`` for raking: per period, the district totals, the age-group
    totals and the sex totals of the given districts (raked in that order)."""
    records: list[tuple[str, str, float]] = []
    for variable in RAKING_MARGINS:
        totals = population.groupby(variable, sort=True)["N"].sum()
        for period in sorted(periods):
            records += [
                (f"m_{variable}", margin_key(period, level), float(count))
                for level, count in totals.items()
            ]
    return pd.DataFrame.from_records(records, columns=["margin", "level", "N"])
