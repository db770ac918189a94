"""Question statistics equal ``analysis`` run on the same responses loaded unit-level.

The demo generator answers the bundled questionnaire (skip logic, multiple choice, scales
with 不了解/说不清, a few flagged responses); the test reads the responses and answers back
with plain SQL, builds one row per response with an indicator per option (NaN for those who
did not answer), and compares every share, interval and mean score with the report's, to
1e-9, for every weighting, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import text

from analysis import svy_chisq
from analysis import svy_estimate
from questionnaires import Definition
from survey import demo
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.reporting import ReportFilter
from survey.reporting.questions.crosstab import crosstab
from survey.reporting.questions.results import QuestionReport
from survey.reporting.questions.stats import question_stats
from survey.services.questionnaires import definition_of
from tests.survey.reporting.test_acceptance import unit_design

TOL = 1e-9
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


@pytest.fixture
def answered(seeded: Flask) -> Flask:
    """The demo city with 1,000 generated responses and their answers."""
    with seeded.app_context():
        demo.add_responses(1000, seed=7, weeks=4, now=NOW)
    return seeded


def version_and_definition(app: Flask) -> tuple[int, int, Definition]:
    with app.app_context():
        version = db.session.execute(db.select(QuestionnaireVersion)).scalars().one()
        return version.questionnaire_id, version.id, definition_of(version)


def unit_rows(app: Flask, defn: Definition) -> pd.DataFrame:
    """One row per unflagged response with an indicator per option and the scale scores."""
    with app.app_context():
        responses = pd.DataFrame(
            db.session.execute(
                text(
                    "SELECT id, point_id, district_id, region_id, age_group, sex FROM responses"
                    " WHERE flags = 0 ORDER BY id"
                )
            ).all(),
            columns=["id", "point_id", "district_id", "region_id", "age_group", "sex"],
        )
        answers = pd.DataFrame(
            db.session.execute(text("SELECT response_id, question_key, value FROM answers")).all(),
            columns=["response_id", "question_key", "value"],
        )
    units = responses.set_index("id")
    columns = {}
    for q in defn.questions:
        if q.type not in ("single", "multiple", "scale"):
            continue
        mine = answers[answers["question_key"] == q.key]
        who = units.index.isin(mine["response_id"])
        for o in q.options:
            chose = units.index.isin(mine.loc[mine["value"] == o.value, "response_id"])
            columns[f"{q.key}={o.value}"] = np.where(who, chose.astype(float), np.nan)
        if q.type != "multiple":
            single = mine.drop_duplicates("response_id").set_index("response_id")["value"]
            columns[f"answer:{q.key}"] = single.reindex(units.index).astype(object)
        if q.type == "scale":
            scores = {o.value: o.score for o in q.options if o.substantive}
            columns[f"{q.key}:score"] = single.map(scores).reindex(units.index).astype(float)
    return pd.concat([units, pd.DataFrame(columns, index=units.index)], axis=1).reset_index()


def assert_close(got: float | None, want: float, what: str) -> None:
    if want is None or np.isnan(want):
        assert got is None, what
        return
    assert got is not None, what
    assert abs(got - want) <= TOL * max(1.0, abs(want)), (what, got, want)


def check(estimate, row, what: str) -> None:  # type: ignore[no-untyped-def]
    assert estimate.n == int(row.n), what
    for name in ("estimate", "se", "ci_low", "ci_high", "deff"):
        assert_close(getattr(estimate, name), float(getattr(row, name)), f"{what} {name}")


def report_for(app: Flask, weighting: str) -> tuple[QuestionReport, Definition]:
    qid, vid, defn = version_and_definition(app)
    flt = ReportFilter(questionnaire_id=qid, version_id=vid, weighting=weighting)
    with app.app_context():
        return question_stats(db.session, flt, defn), defn


@pytest.mark.parametrize("weighting", ["none", "poststratify", "rake"])
def test_question_statistics_equal_unit_level_analysis(answered: Flask, weighting: str) -> None:
    report, defn = report_for(answered, weighting)
    assert report.weighting.applied == weighting, report.weighting.message
    units = unit_rows(answered, defn)
    assert report.responses == len(units)
    plain = unit_design(units, "none", None)
    weighted = unit_design(units, weighting, _Gen(answered)) if weighting != "none" else None
    for q in report.questions:
        for o in q.options:
            column = f"{q.key}={o.value}"
            assert o.count == int(np.nansum(units[column])), column
            check(o.unweighted, svy_estimate(plain, column).iloc[0], f"{column} unweighted")
            if weighted is None:
                assert o.weighted is None
            else:
                check(o.weighted, svy_estimate(weighted, column).iloc[0], f"{column} weighted")
        if q.type == "scale":
            column = f"{q.key}:score"
            check(q.score, svy_estimate(plain, column).iloc[0], column)
            if weighted is not None:
                check(q.score_weighted, svy_estimate(weighted, column).iloc[0], column)


class _Gen:
    """What ``unit_design`` reads of the generated-data fixture: the app."""

    def __init__(self, app: Flask) -> None:
        self.app = app


def test_multiple_choice_shares_are_of_respondents_and_can_pass_100(answered: Flask) -> None:
    report, _ = report_for(answered, "none")
    by_key = {q.key: q for q in report.questions}
    multiple = by_key["aware_report"]
    assert multiple.type == "multiple"
    assert multiple.total_share is not None and multiple.total_share > 1.0
    ticks = sum(o.count for o in multiple.options)
    assert ticks > multiple.answered  # more ticks than respondents ...
    for o in multiple.options:  # ... and each share is of respondents, not of ticks
        assert o.unweighted.estimate == pytest.approx(o.count / multiple.answered, abs=1e-12)
    single = by_key["aware_campaign"]
    assert single.total_share == pytest.approx(1.0)


def test_seen_follows_skip_logic_and_non_substantive_share(answered: Flask) -> None:
    report, _ = report_for(answered, "none")
    by_key = {q.key: q for q in report.questions}
    volunteered = {o.value: o.count for o in by_key["volunteered"].options}
    follow_up = by_key["volunteer_frequency"]
    assert follow_up.seen == volunteered["yes"] < report.responses
    assert follow_up.answered <= follow_up.seen
    assert "参加过" in follow_up.condition
    assert by_key["aware_campaign"].seen == report.responses
    scale = by_key["sat_overall"]
    unsure = next(o for o in scale.options if not o.substantive)
    assert scale.non_substantive is not None
    assert scale.non_substantive.estimate == pytest.approx(unsure.count / scale.answered)
    assert by_key["aware_campaign"].non_substantive is None
    assert scale.score is not None and 0 < (scale.score.estimate or 0) < 100


@pytest.mark.parametrize(
    ("question", "by", "column", "weighting"),
    [
        ("aware_campaign", "district", "stratum", "poststratify"),
        ("aware_report", "age_group", "age_group", "none"),
        ("sat_overall", "question:volunteered", "answer:volunteered", "rake"),
    ],
)
def test_crosstab_equals_unit_level_analysis(
    answered: Flask, question: str, by: str, column: str, weighting: str
) -> None:
    qid, vid, defn = version_and_definition(answered)
    flt = ReportFilter(questionnaire_id=qid, version_id=vid, weighting=weighting)
    with answered.app_context():
        table = crosstab(db.session, flt, defn, question, by)
    units = unit_rows(answered, defn)
    design = unit_design(units, weighting, _Gen(answered))
    q = defn.question(question)
    for j, o in enumerate(q.options):
        want = svy_estimate(design, f"{question}={o.value}", column).set_index(column)
        for row in table.rows:
            check(row.cells[j], want.loc[row.key], f"{question}={o.value} {row.label}")
        check(table.total.cells[j], svy_estimate(design, f"{question}={o.value}").iloc[0], "total")
    if q.type == "multiple":
        assert len(table.tests) == len(q.options)
        pairs = [(t, f"{question}={o.value}") for t, o in zip(table.tests, q.options, strict=True)]
    else:
        pairs = [(table.tests[0], f"answer:{question}")]
    for test, answer in pairs:
        want = svy_chisq(design, column, answer)
        assert test.p_value is not None
        assert abs(test.statistic - want.statistic) <= TOL * max(1.0, want.statistic)
        assert abs(test.p_value - want.p_value) <= TOL
        assert abs(test.ndf - want.ndf) <= TOL * want.ndf
        assert ("差异显著" in test.sentence) == (want.p_value < 0.05)
