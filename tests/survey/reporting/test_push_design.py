"""Push channels are not clusters (issue 24): against R's survey package.

tests/survey/reporting/reference_push/make_reference.R (R and survey versions in
versions.txt) fits ``svydesign(ids = ~psu, strata = ~district, weights = ~w)`` with ``psu``
the response at push points (channel 2) and the point at places, plain and post-stratified,
on units.csv (make_data.py). Here the same units are aggregated per (point, cell) as the
report statement returns them, push rows are split into their one-response PSUs, stored
compactly with a multiplicity (``expand_push_rows``), and the dashboard's own functions
estimate. Channel 3 has one point per district: its own df is 0, so its interval uses the
whole design's df (R: ``svyciprop(..., df = degf(des))``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from survey.reporting.estimates import estimates_by
from survey.reporting.filters import METRICS
from survey.reporting.push import PSUS
from survey.reporting.push import expand_push_rows
from survey.reporting.weighting import weighted_design

REF = Path(__file__).parent / "reference_push"
KEYS = ["district", "point", "channel", "age_group", "sex"]


def _rows() -> pd.DataFrame:
    """The units as the report statement aggregates them: one row per point and cell."""
    units = pd.read_csv(REF / "units.csv")
    parts = {"n": ("response", "size")}
    for m in METRICS:
        units[f"{m}_sq"] = units[m] ** 2
        parts |= {
            f"{m}_n": (m, "count"),
            f"{m}_sum": (m, "sum"),
            f"{m}_sum2": (f"{m}_sq", "sum"),
        }
    rows = units.groupby(KEYS, as_index=False).agg(**parts)
    return rows.assign(
        district_id=rows["district"],
        point_id=rows["point"],
        region_id=rows["district"],
        channel_id=rows["channel"],
        stratum=rows["district"].astype(np.int64),
        cluster=rows["point"].astype(np.int64),
        period=np.int64(1),
        week_start=pd.Timestamp("2026-11-30").date(),
    )


def _reference() -> pd.DataFrame:
    ref = pd.read_csv(REF / "reference.csv", dtype={"domain": str})
    return ref.set_index(["design", "metric", "domain", "stat"]).sort_index()["value"]


REFERENCE = _reference()


@pytest.mark.parametrize("method", ["none", "poststratify"])
def test_push_responses_are_their_own_psus(method: str) -> None:
    rows = expand_push_rows(_rows(), {2})
    population = pd.read_csv(REF / "population.csv")
    regions = SimpleNamespace(by_id={})
    design = weighted_design(rows, method, population, regions).design  # type: ignore[arg-type]
    assert design is not None
    by_channel = estimates_by(design, METRICS, "channel_id", min_n=30)
    overall = estimates_by(design, METRICS, None, min_n=30)
    for metric in METRICS:
        found = {"all": overall[metric][None]} | {str(k): by_channel[metric][k] for k in (1, 2, 3)}
        for domain, est in found.items():
            ref = REFERENCE.loc[(method, metric, domain)]
            where = f"{method} {metric} channel {domain}"
            assert_allclose(est.estimate, ref["estimate"], rtol=1e-9, err_msg=where)
            assert_allclose(est.se, ref["se"], rtol=1e-8, err_msg=where)
            assert_allclose(est.df, ref["df"], err_msg=where)
            assert_allclose(
                [est.ci_low, est.ci_high], [ref["ci_low"], ref["ci_high"]], rtol=1e-8, err_msg=where
            )
            if domain == "3":
                assert ref["own_df"] == 0 and "whole design's df" in est.note


def test_expansion_keeps_every_sum() -> None:
    rows = _rows()
    expanded = expand_push_rows(rows, {2})
    columns = ["n"] + [f"{m}_{p}" for m in METRICS for p in ("n", "sum", "sum2")]
    assert_allclose(expanded[columns].sum(), rows[columns].sum(), rtol=1e-12)
    push = expanded[expanded["channel_id"] == 2]
    # every push row stands for `psus` one-response PSUs, each row its own cluster
    assert (push["n"] == push[PSUS]).all() and push["cluster"].is_unique
    assert push[PSUS].sum() == rows.loc[rows["channel_id"] == 2, "n"].sum()
    assert len(push) <= rows.loc[rows["channel_id"] == 2, "n"].sum()
    place = expanded[expanded["channel_id"] != 2]
    assert (place[PSUS] == 1).all()
    pd.testing.assert_frame_equal(
        place.drop(columns=PSUS).reset_index(drop=True),
        rows[rows["channel_id"] != 2].reset_index(drop=True),
        check_dtype=False,  # the sums become float, as the report statement returns them
    )


def test_clustering_a_push_point_was_the_wrong_design() -> None:
    """The old design (the push point one PSU): channel 2's own df is 0, so before issue 24
    it had no interval; now it only gets one through the whole design's df."""
    design = weighted_design(_rows(), "none", pd.DataFrame(), SimpleNamespace(by_id={})).design
    assert design is not None
    old = estimates_by(design, ["awareness"], "channel_id", min_n=30)["awareness"][2]
    assert old.df == design.df  # own df 0: only the whole design's df rescued it
    assert "whole design's df" in old.note
