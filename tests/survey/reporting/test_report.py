"""The dashboard's parts: rows read, 样本不足, change, targets, ranks, channels, scope, flags."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis import design_from_units
from analysis import svy_contrast
from analysis import target_status
from survey.extensions import db
from survey.models import PointScanDaily
from survey.reporting import Estimate
from survey.reporting import ReportFilter
from survey.reporting import dashboard
from survey.reporting import estimate_table
from survey.reporting import load_statistics
from survey.reporting import trend
from survey.reporting.statement import _categorical
from survey.reporting.weighting import UNWEIGHTED_WEIGHT
from tests.survey.reporting.conftest import EXCLUDED
from tests.survey.reporting.conftest import PERIOD_END
from tests.survey.reporting.conftest import PERIOD_START
from tests.survey.reporting.conftest import Generated
from tests.survey.reporting.test_acceptance import TOL
from tests.survey.reporting.test_acceptance import current_units


def period_filter(gen: Generated, **changes: object) -> ReportFilter:
    flt = ReportFilter(
        questionnaire_id=gen.questionnaire_id, date_from=PERIOD_START, date_to=PERIOD_END
    )
    return flt.with_(**changes)


def test_statement_reads_at_most_groups_cells_points_rows(generated: Generated) -> None:
    flt = period_filter(generated)
    with generated.app.app_context():
        stats = load_statistics(db.session, flt, with_previous=True)
    units = generated.units[generated.units["flags"] & EXCLUDED == 0]
    weeks = units["week_start"].nunique()
    cells = units[["age_group", "sex"]].drop_duplicates().shape[0]
    points = units["point_id"].nunique()
    assert stats.rows_read == len(stats.frame)
    assert stats.rows_read <= weeks * cells * points
    assert stats.rows_read < len(units)  # aggregated, not one row per response
    assert int(stats.frame["n"].sum()) == len(units)


def test_flagged_responses_are_counted_and_excluded_by_default(generated: Generated) -> None:
    current = generated.units[
        (generated.units["week_start"] >= PERIOD_START)
        & (generated.units["week_start"] <= PERIOD_END)
    ]
    with generated.app.app_context():
        excluded = dashboard(db.session, period_filter(generated)).headline
        included = dashboard(db.session, period_filter(generated, include_flagged=True)).headline
    flagged = int((current["flags"] & EXCLUDED != 0).sum())
    assert flagged > 0
    assert excluded.flagged == flagged and not excluded.flagged_included
    assert excluded.responses == len(current) - flagged
    assert included.flagged == flagged and included.flagged_included
    assert included.responses == len(current)


def test_too_few_responses_are_said_in_words(generated: Generated) -> None:
    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated, level="community"), min_n=60)
    rows = board.table.rows
    small = [r for r in rows if 0 < r.metrics["awareness"].estimate.n < 60]
    assert small, "the generated data has communities with few responses"
    for row in small:
        estimate = row.metrics["awareness"].estimate
        assert estimate.too_few
        assert "样本不足" in estimate.reason and f"n={estimate.n}" in estimate.reason
        assert row.metrics["awareness"].rank is None
    empty = [r for r in rows if r.responses == 0]
    for row in empty:
        assert row.metrics["awareness"].estimate.reason == "无有效答卷"


def test_change_equals_svy_contrast_on_unit_rows(generated: Generated) -> None:
    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated), group_changes=True)
    units = generated.units[generated.units["flags"] & EXCLUDED == 0].copy()
    units["period"] = (units["week_start"] >= PERIOD_START).astype(int)
    units["w"] = UNWEIGHTED_WEIGHT
    design = design_from_units(units, strata="district_id", psu="cluster", weights="w")
    for metric in ("awareness", "participation", "satisfaction_score"):
        want = svy_contrast(design, metric, "period", 0, 1).iloc[0]
        got = board.headline.metrics[metric].change
        assert got is not None
        for name in ("difference", "se", "ci_low", "ci_high", "p_value"):
            assert abs(getattr(got, name) - getattr(want, name)) <= TOL, (metric, name)
        assert got.significant == bool(want.ci_low > 0 or want.ci_high < 0)
        assert got.n_previous == int(want.n_1) and got.n_current == int(want.n_2)
        by_group = svy_contrast(design, metric, "period", 0, 1, "district_id")
        by_group = by_group.set_index("district_id")
        for row in board.table.rows:
            change = row.metrics[metric].change
            assert change is not None
            assert abs(change.difference - by_group.loc[row.key, "difference"]) <= TOL
            assert abs(change.se - by_group.loc[row.key, "se"]) <= TOL


def test_no_previous_period_without_dates(generated: Generated) -> None:
    flt = ReportFilter(questionnaire_id=generated.questionnaire_id)
    with generated.app.app_context():
        board = dashboard(db.session, flt)
    assert board.headline.metrics["awareness"].change is None
    assert board.headline.responses == int((generated.units["flags"] & EXCLUDED == 0).sum())


def test_targets_use_target_status(generated: Generated) -> None:
    targets = {"awareness": 0.5, "participation": 0.99, "satisfaction_score": 70.0}
    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated), targets=targets)
    for metric, threshold in targets.items():
        result = board.headline.metrics[metric]
        est = result.estimate
        frame = pd.DataFrame(
            [
                {
                    "estimate": est.estimate,
                    "se": est.se,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "n": est.n,
                    "df": est.df,
                }
            ]
        )
        want = target_status(frame, threshold).iloc[0]
        assert result.target is not None
        assert result.target.status == want.status
        assert (
            result.target.label
            == {"met": "达标", "not met": "未达标", "undecided": "待定"}[want.status]
        )
    # awareness averages ~0.6 over 7 items: clearly above 0.5; participation far below 0.99
    assert board.headline.metrics["awareness"].target.label == "达标"
    assert board.headline.metrics["participation"].target.label == "未达标"
    assert board.headline.metrics["satisfaction"].target is None
    for row in board.table.rows:
        target = row.metrics["awareness"].target
        assert target is not None
        if row.metrics["awareness"].estimate.too_few:
            assert target.status == "undecided" and target.more_needed >= 1


def test_ranks_cover_usable_groups(generated: Generated) -> None:
    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated))
    ranked = [r.metrics["awareness"].rank for r in board.table.rows]
    usable = [r for r in board.table.rows if not r.metrics["awareness"].estimate.too_few]
    assert len([x for x in ranked if x is not None]) == len(usable) >= 2
    estimates = {r.key: r.metrics["awareness"].estimate.estimate for r in usable}
    best = max(estimates, key=lambda k: estimates[k])
    for row in usable:
        rank = row.metrics["awareness"].rank
        assert rank is not None and rank.of == len(usable)
        assert rank.rank_low <= rank.rank <= rank.rank_high
        if row.key == best:
            assert rank.rank == 1


def test_trend_has_every_week_of_the_period(generated: Generated) -> None:
    with generated.app.app_context():
        series = trend(db.session, period_filter(generated), targets={"awareness": 0.7})
    weeks = [p.week for p in series["awareness"].points]
    assert weeks == [PERIOD_START, PERIOD_START + dt.timedelta(days=7)]
    assert series["awareness"].target == 0.7 and series["awareness"].name == "知晓率"
    assert all(p.estimate.n > 0 for p in series["awareness"].points)


def test_channel_completion_never_exceeds_100_percent(generated: Generated) -> None:
    units = current_units(generated.units)
    counts = units.groupby("point_id").size().sort_values(ascending=False)
    busy, quiet = int(counts.index[0]), int(counts.index[1])
    flagged = (
        generated.units[
            (generated.units["flags"] & EXCLUDED != 0)
            & (generated.units["week_start"] >= PERIOD_START)
            & (generated.units["week_start"] <= PERIOD_END)
        ]
        .groupby("point_id")
        .size()
    )
    with generated.app.app_context():
        db.session.add(PointScanDaily(point_id=busy, day=PERIOD_START, scans=3))
        db.session.add(PointScanDaily(point_id=quiet, day=PERIOD_START, scans=10_000))
        db.session.commit()
        board = dashboard(db.session, period_filter(generated))
    points = {row.key: row for row in board.points}
    responses = int(counts[busy] + flagged.get(busy, 0))
    too_many = points[busy].completion
    assert too_many.rate is None and too_many.scans == 3 and too_many.responses == responses
    assert "多于扫码数" in too_many.note
    fine = points[quiet].completion
    assert fine.rate == pytest.approx((counts[quiet] + flagged.get(quiet, 0)) / 10_000)
    unscanned = [r for r in board.points if r.completion.scans == 0 and r.included > 0]
    assert unscanned and all(r.completion.rate is None for r in unscanned)
    channels = {row.key: row for row in board.channels}
    assert sum(c.included for c in channels.values()) == board.headline.responses
    # the point's own interval (one cluster has no design-based interval)
    estimate = points[quiet].metrics["satisfaction_score"]
    assert estimate.method == "point" and estimate.ci_low < estimate.estimate < estimate.ci_high


def test_scope_limits_everything_to_the_officers_subtree(generated: Generated) -> None:
    district = next(r for r in generated.regions.values() if r.level == "district")
    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated, scope_path=district.path))
        other = next(
            r for r in generated.regions.values() if r.level == "district" and r.id != district.id
        )
        nothing = dashboard(
            db.session,
            period_filter(generated, scope_path=district.path, region_path=other.path),
        )
    units = current_units(generated.units)
    assert board.headline.responses == int((units["district_id"] == district.id).sum())
    assert [row.key for row in board.table.rows] == [district.id]
    assert nothing.headline.responses == 0 and nothing.table.rows == []
    assert nothing.headline.metrics["awareness"].estimate.reason == "无有效答卷"


@pytest.mark.parametrize("by", ["overall", "district", "channel", "point", "week"])
def test_estimate_table_gives_the_dashboard_numbers(generated: Generated, by: str) -> None:
    flt = period_filter(generated)
    with generated.app.app_context():
        board = dashboard(db.session, flt)
        table = estimate_table(db.session, flt, by)
    if by == "overall":
        want = {None: board.headline.metrics}
    elif by == "district":
        want = {r.key: r.metrics for r in board.table.rows}
    elif by in ("channel", "point"):
        rows = board.channels if by == "channel" else board.points
        want = {r.key: r.metrics for r in rows}
    else:
        want = {
            p.week: {"awareness": board.trend["awareness"].points[i]}
            for i, p in enumerate(board.trend["awareness"].points)
        }
    for row in table.rows:
        got = row.metrics["awareness"].estimate
        expected = want[row.key]["awareness"]
        if not isinstance(expected, Estimate):  # a MetricResult or a TrendPoint
            expected = expected.estimate
        assert got == expected
    assert table.to_dict()["rows"]


def test_to_dict_is_json_ready(generated: Generated) -> None:
    import json

    with generated.app.app_context():
        board = dashboard(db.session, period_filter(generated, weighting="poststratify"))
    text = json.dumps(board.to_dict(), ensure_ascii=False, allow_nan=False)
    data = json.loads(text)
    rate = data["headline"]["metrics"]["awareness"]["estimate"]
    for key in ("estimate", "se", "ci_low", "ci_high", "n", "deff", "too_few", "reason"):
        assert key in rate
    assert data["weighting"]["applied"] == "poststratify"
    assert np.isfinite(data["weighting"]["kish_n_eff"])


@pytest.mark.parametrize(
    "values",
    [
        ("60+", "18-29", None, "30-39", "18-29"),
        ("male", "female", "male"),
        (None, None),
        (),
        ("a", 1, None),  # not all text: pandas' own inference
    ],
)
def test_frame_codes_text_keys_as_pandas_does(values: tuple[object, ...]) -> None:
    got = _categorical(values)
    want = pd.Categorical(values)
    assert list(got.categories) == list(want.categories)
    assert got.categories.dtype == want.categories.dtype
    assert pd.Series(got).equals(pd.Series(want))
