"""Report figures equal ``analysis`` run on the same responses loaded unit-level.

For every weighting choice, on SQLite and PostgreSQL: the estimate, SE, interval and design
effect of every metric, city-wide and by group, agree to 1e-9 with ``design_from_units`` on
the unit rows (built here from the generated responses, not from the report's code).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import design_from_units
from analysis import poststratify
from analysis import rake
from analysis import svy_estimate
from survey.extensions import db
from survey.models import PopulationCount
from survey.reporting import METRICS
from survey.reporting import RATE_METRICS
from survey.reporting import ReportFilter
from survey.reporting import dashboard
from survey.reporting.weighting import UNWEIGHTED_WEIGHT
from tests.survey.reporting.conftest import EXCLUDED
from tests.survey.reporting.conftest import PERIOD_END
from tests.survey.reporting.conftest import PERIOD_START
from tests.survey.reporting.conftest import Generated

TOL = 1e-9


def current_units(units: pd.DataFrame) -> pd.DataFrame:
    """The current period's responses without the EXCLUDED bit (weak flags still count)."""
    keep = (units["week_start"] >= PERIOD_START) & (units["week_start"] <= PERIOD_END)
    return units[keep & (units["flags"] & EXCLUDED == 0)].copy()


def population(gen: Generated, districts: list[int]) -> pd.DataFrame:
    with gen.app.app_context():
        rows = db.session.execute(
            db.select(
                PopulationCount.region_id,
                PopulationCount.age_group,
                PopulationCount.sex,
                PopulationCount.count,
            ).where(PopulationCount.region_id.in_(districts))
        ).all()
    pop = pd.DataFrame(rows, columns=["district_id", "age_group", "sex", "N"])
    # cell order documented in survey/reporting/margins.py: district, age group, sex
    return pop.sort_values(["district_id", "age_group", "sex"]).reset_index(drop=True)


def unit_design(units: pd.DataFrame, weighting: str, gen: Generated):  # type: ignore[no-untyped-def]
    """The design the report should match, built from unit rows."""
    data = units.rename(columns={"district_id": "stratum"})
    if "cluster" not in data.columns:  # question reports still cluster every point
        data["cluster"] = data["point_id"]
    if weighting == "none":
        data["w"] = UNWEIGHTED_WEIGHT
        return design_from_units(data, strata="stratum", psu="cluster", weights="w")
    data = data[data["age_group"].notna() & data["sex"].notna()].copy()
    data["w"] = 1.0
    data["period"] = 1
    design = design_from_units(data, strata="stratum", psu="cluster", weights="w")
    pop = population(gen, sorted(data["stratum"].unique().tolist()))
    if weighting == "poststratify":
        cells = pop.rename(columns={"district_id": "stratum"}).assign(period=1)
        return poststratify(design, cells[["period", "stratum", "age_group", "sex", "N"]])
    margins = {
        "stratum": pop.groupby("district_id")["N"].sum(),
        "age_group": pop.groupby("age_group")["N"].sum(),
        "sex": pop.groupby("sex")["N"].sum(),
    }
    return rake(design, margins)


def expected_rows(design, metric: str, by: str | None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = svy_estimate(design, metric, by)
    if metric in RATE_METRICS and not set(design.data[metric].dropna().unique()) <= {0.0, 1.0}:
        # a rate averaged over items gets the t interval, clipped to [0, 1] (documented)
        frame["ci_low"] = frame["ci_low"].clip(lower=0.0)
        frame["ci_high"] = frame["ci_high"].clip(upper=1.0)
    return frame


def assert_close(got: object, want: float, what: str) -> None:
    if want is None or (isinstance(want, float) and np.isnan(want)):
        assert got is None, what
        return
    assert got is not None, what
    assert abs(float(got) - float(want)) <= TOL * max(1.0, abs(float(want))), (what, got, want)


def check(estimate, row, what: str) -> None:  # type: ignore[no-untyped-def]
    assert estimate.n == int(row.n), what
    for name in ("estimate", "se", "ci_low", "ci_high", "deff"):
        assert_close(getattr(estimate, name), getattr(row, name), f"{what} {name}")


@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake"])
def test_dashboard_equals_unit_level_analysis(generated: Generated, weighting: str) -> None:
    flt = ReportFilter(
        questionnaire_id=generated.questionnaire_id,
        date_from=PERIOD_START,
        date_to=PERIOD_END,
        weighting=weighting,
    )
    with generated.app.app_context():
        board = dashboard(db.session, flt)
    assert board.weighting.applied == weighting, board.weighting.message
    units = current_units(generated.units)
    units["group"] = units["district_id"]
    design = unit_design(units, weighting, generated)
    if weighting != "none":
        assert board.weighting.dropped == int(units["age_group"].isna().sum())
    for metric in METRICS:
        overall = expected_rows(design, metric, None).iloc[0]
        check(board.headline.metrics[metric].estimate, overall, f"{weighting} {metric} overall")
        by_group = expected_rows(design, metric, "group").set_index("group")
        for row in board.table.rows:
            want = by_group.loc[row.key]
            check(row.metrics[metric].estimate, want, f"{weighting} {metric} {row.label}")
        by_week = expected_rows(design, metric, "week_start").set_index("week_start")
        for point in board.trend[metric].points:
            check(point.estimate, by_week.loc[point.week], f"{weighting} {metric} {point.week}")


def test_street_table_equals_unit_level_analysis(generated: Generated) -> None:
    regions = generated.regions
    district = next(r for r in regions.values() if r.level == "district")
    flt = ReportFilter(
        questionnaire_id=generated.questionnaire_id,
        date_from=PERIOD_START,
        date_to=PERIOD_END,
        region_path=district.path,
        level="street",
    )
    with generated.app.app_context():
        board = dashboard(db.session, flt)
    units = current_units(generated.units)
    units = units[units["district_id"] == district.id].copy()

    def street_of(region_id: int) -> int:
        # the street above a community, the street itself, or (district-level point) -id
        found = [a for a in regions[region_id].ancestor_ids() if regions[a].level == "street"]
        return found[0] if found else -region_id

    units["group"] = units["region_id"].map(street_of)
    design = unit_design(units, "none", generated)
    streets = {r.id for r in regions.values() if r.parent_id == district.id}
    assert streets <= {row.key for row in board.table.rows}
    for metric in METRICS:
        by_group = expected_rows(design, metric, "group").set_index("group")
        for row in board.table.rows:
            if row.key in by_group.index:
                check(row.metrics[metric].estimate, by_group.loc[row.key], f"{metric} {row.label}")
            else:
                assert row.metrics[metric].estimate.n == 0
                assert row.metrics[metric].estimate.too_few
