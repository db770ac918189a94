"""A paper-imported response is scored and stored exactly like the same answers through
the QR form; the sweep's timing detectors leave paper alone; the raw export says 'paper'."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from survey.services import transaction
from survey.services.paper.storing import import_file
from tests.survey.paper.conftest import Paper
from tests.survey.paper.filling import csv_file
from tests.survey.paper.filling import template_row
from tests.survey.public.conftest import open_form
from tests.survey.public.conftest import valid_answers

SCORED = (
    "questionnaire_version_id",
    "point_id",
    "region_id",
    "district_id",
    "channel_id",
    "age_group",
    "sex",
    "residence_region_id",
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)


def _answers(response_id: int) -> list[tuple[str, str | None, str | None, float | None]]:
    return sorted(
        (
            tuple(r)
            for r in db.session.execute(
                select(Answer.question_key, Answer.value, Answer.text, Answer.number).where(
                    Answer.response_id == response_id
                )
            )
        ),
        key=lambda r: (r[0], r[1] or "", r[2] or ""),
    )


def _variants(street: str) -> list[dict[str, object]]:
    """The sample answers, and variants through the skip logic and the "其他" text."""
    base = valid_answers(street)
    skipped = {**base, "volunteered": "no"}
    for key in ("volunteer_frequency", "volunteer_kind", "volunteer_kind__other"):
        skipped.pop(key)
    reported = {
        **base,
        "reported_problem": "yes",
        "report_outcome": "in_progress",
        "sat_overall": "unsure",
        "suggestions": "",
    }
    return [base, skipped, reported]


def test_paper_is_scored_and_stored_like_the_qr_form(paper: Paper) -> None:
    code = paper.codes[0]
    for number, answers in enumerate(_variants(paper.street)):
        client = paper.app.test_client()  # a new resident (device) each time
        form = open_form(client, code)
        assert client.post(f"/q/{code}", data=form.body(answers)).status_code == 303
        row = template_row(paper.target.columns, f"S{number}", code, paper.day, answers)
        with paper.app.app_context():
            result = import_file("p.csv", csv_file(paper.target.defn, [row]), None)
            assert result.stored == 1, [str(e) for e in result.checked.errors]
            transaction.commit()
            qr, pp = _last_two()
            assert pp.source == "paper" and qr.source == "qr"
            assert [getattr(qr, c) for c in SCORED] == [getattr(pp, c) for c in SCORED]
            assert _answers(qr.id) == _answers(pp.id)
            assert len(_answers(pp.id)) > 10


def _last_two() -> tuple[Response, Response]:
    qr = db.session.execute(
        select(Response).where(Response.source == "qr").order_by(Response.id.desc()).limit(1)
    ).scalar_one()
    pp = db.session.execute(
        select(Response).where(Response.source == "paper").order_by(Response.id.desc()).limit(1)
    ).scalar_one()
    return qr, pp


def test_the_sweep_flags_no_paper_batch_for_its_shared_date(paper: Paper) -> None:
    """60 papers of one point and day all carry noon: a QR batch like that is PRELOADED
    (strong) and a BURST; paper has no clock, so the timing detectors skip it."""
    from survey.services.integrity.sweep import sweep_all

    varied = ["satisfied", "fairly_satisfied", "needs_improvement", "very_dissatisfied"]
    rows = [
        paper.row(f"B{i}", paper.codes[0], sat_traffic=varied[i % 4], sat_market=varied[i // 4 % 4])
        for i in range(60)
    ]
    with paper.app.app_context():
        assert import_file("b.csv", csv_file(paper.target.defn, rows), None).stored == 60
        transaction.commit()
        sweep_all(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        codes = set(db.session.execute(select(ResponseFlag.code)).scalars())
        flags = [int(f) for f in db.session.execute(select(Response.flags)).scalars()]
    timing = {
        "PRELOADED",
        "BURST",
        "SERIAL",
        "ODD_HOURS",
        "SHARED_NETWORK",
        "NO_TIMING",
        "TOO_FAST",
    }
    assert not codes & timing, codes
    assert not any(f & QualityFlag.EXCLUDED for f in flags)


def test_the_sweep_still_flags_a_qr_batch_like_that(paper: Paper) -> None:
    """The control for the test above: the same 60 responses as QR submissions at one
    moment are caught, so the test above can fail."""
    from survey.services.integrity.sweep import sweep_all
    from survey.services.paper.importing import submitted_at

    rows = [paper.row(f"B{i}", paper.codes[0]) for i in range(60)]
    with paper.app.app_context():
        import_file("b.csv", csv_file(paper.target.defn, rows), None)
        db.session.execute(db.update(Response).values(source="qr"))
        transaction.commit()
        assert submitted_at(paper.day) < dt.datetime.now(dt.UTC)
        sweep_all(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        codes = set(db.session.execute(select(ResponseFlag.code)).scalars())
    assert "PRELOADED" in codes


def test_the_raw_export_shows_paper_as_the_source(paper: Paper, tmp_path: Path) -> None:
    with paper.app.app_context():
        import_file("p.csv", csv_file(paper.target.defn, [paper.row("E1")]), None)
        transaction.commit()
    runner: FlaskCliRunner = paper.app.test_cli_runner()
    out = tmp_path / "raw.csv"
    result = runner.invoke(
        args=[
            "responses",
            "export",
            "--questionnaire",
            "civilized-city",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source"] for r in rows] == ["纸质录入"]  # the export's label of 'paper'
