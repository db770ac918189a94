"""Small-area estimates of satisfaction items for thin streets (the weak spots' hook).

Issue 24's Fay–Herriot model (:func:`analysis.small_area_estimates`) fitted per item over the
areas of the weak-spot table: the direct estimate is the item's satisfied share in the area
(design-based, from the same question statements), its sampling variance is smoothed as
``p (1 - p) / n`` with the city's share (the generalised variance function issue 24 uses),
and the covariates are district effects. A thin area (fewer answers than the weak-spot
minimum) then shows the model estimate and its interval, marked 小区域估计 (合成估计 when
the area has no answer at all), and stays out of the significance test.

An item whose model cannot be fitted (fewer than three areas with answers) gets none; its
thin areas keep 样本不足.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis import AnalysisError
from analysis import small_area_estimates
from survey.reporting.problem_list.weak_spots import SmallAreaFigure
from survey.reporting.region_index import RegionIndex


def item_small_area(
    table: pd.DataFrame, regions: RegionIndex
) -> Mapping[tuple[int, str], SmallAreaFigure]:
    """Model estimates of the untested (area, item) rows of ``table`` (columns ``area``,
    ``item``, ``n``, ``estimate``, ``overall``, ``tested``)."""
    out: dict[tuple[int, str], SmallAreaFigure] = {}
    for item, rows in table.groupby("item", sort=False):
        if bool(rows["tested"].all()):
            continue
        areas = pd.DataFrame(
            {
                "direct": rows["estimate"].to_numpy(np.float64),
                "n": rows["n"].to_numpy(np.float64),
                "district": [regions.ancestor_at(int(a), "district") or 0 for a in rows["area"]],
            },
            index=rows["area"].astype(int).to_numpy(),
        )
        city = float(rows["overall"].iloc[0])
        unit = city * (1.0 - city)
        if not unit > 0.0:
            continue
        try:
            fit = small_area_estimates(areas, unit_variance=unit, bounds=(0.0, 1.0)).fit
        except AnalysisError:
            continue
        thin = rows.loc[~rows["tested"], "area"].astype(int)
        for area in thin:
            row = fit.areas.loc[area]
            method = "合成估计（无答卷）" if bool(row["synthetic"]) else "小区域估计"
            out[(area, str(item))] = SmallAreaFigure(
                float(row["estimate"]), float(row["lower"]), float(row["upper"]), method
            )
    return out
