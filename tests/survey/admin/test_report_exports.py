"""Exports opened as their readers open them: XLSX (openpyxl), DOCX (python-docx), SAV
(pyreadstat), CSV and JSON; their figures equal the report functions' (the page's)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyreadstat
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import text

from survey.extensions import db
from survey.models import QualityFlag
from survey.models import QuestionnaireVersion
from survey.reporting import ReportFilter
from survey.reporting import dashboard
from survey.reporting.questions.stats import question_stats
from survey.services.questionnaires import definition_of
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.test_question_pages import answered_staff  # noqa: F401

SHEETS = ["说明", "总体", "按区县", "按街道", "按渠道", "每周趋势"]


def _filter(app: Flask, **changes: object) -> ReportFilter:
    with app.app_context():
        version = db.session.execute(db.select(QuestionnaireVersion)).scalars().one()
        return ReportFilter(
            questionnaire_id=version.questionnaire_id, version_id=version.id, **changes
        )


def test_xlsx_sheets_headers_and_values_equal_the_report(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login()
    got = client.get("/admin/exports/report.xlsx?weighting=poststratify")
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.get_data()))
    assert book.sheetnames[: len(SHEETS)] == SHEETS
    assert any(name.startswith("题") for name in book.sheetnames)
    assert "置信区间" in str(book["说明"]["B2"].value)
    flt = _filter(answered_staff, weighting="poststratify")
    with answered_staff.app_context():
        board = dashboard(db.session, flt)
        version = db.session.get(QuestionnaireVersion, flt.version_id)
        report = question_stats(db.session, flt, definition_of(version))
    head = book["总体"]
    headers = [c.value for c in head[2]]
    assert headers[:3] == ["指标", "估计值", "估计值95%下限"]
    aware = board.headline.metrics["awareness"].estimate
    assert head["A3"].value == "知晓率"
    assert abs(head["B3"].value - aware.estimate) < 1e-12
    assert abs(head["C3"].value - aware.ci_low) < 1e-12
    assert head["B3"].number_format == "0.0%"
    districts = book["按区县"]
    labels = [districts.cell(row=r, column=1).value for r in range(3, districts.max_row + 1)]
    assert labels == [row.label for row in board.table.rows]
    q = next(q for q in report.questions if q.key == "aware_campaign")
    sheet = book[f"题{q.number}"]
    assert q.text in sheet["A1"].value
    titles = [c.value for c in sheet[2]]
    assert "加权比例" in titles
    assert sheet.cell(row=3, column=1).value == q.options[0].label
    assert sheet.cell(row=3, column=2).value == q.options[0].count
    share = q.options[0].unweighted.estimate
    assert abs(sheet.cell(row=3, column=3).value - share) < 1e-12
    weighted = sheet.cell(row=3, column=titles.index("加权比例") + 1).value
    assert abs(weighted - q.options[0].weighted.estimate) < 1e-12


def test_officer_export_covers_own_district_only(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login("linjiang")
    book = load_workbook(io.BytesIO(client.get("/admin/exports/report.xlsx").get_data()))
    districts = book["按区县"]
    assert [districts.cell(row=r, column=1).value for r in range(3, districts.max_row + 1)] == [
        "临江区"
    ]


def test_briefing_docx_has_headline_numbers_and_charts(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login()
    got = client.get("/admin/exports/briefing.docx?from=2026-11-23&to=2026-11-29")
    assert got.status_code == 200
    document = Document(io.BytesIO(got.get_data()))
    text_all = "\n".join(p.text for p in document.paragraphs)
    flt = _filter(answered_staff).with_(
        date_from=__import__("datetime").date(2026, 11, 23),
        date_to=__import__("datetime").date(2026, 11, 29),
    )
    with answered_staff.app_context():
        board = dashboard(db.session, flt)
    aware = board.headline.metrics["awareness"].estimate
    assert f"本周全市知晓率为 {aware.estimate * 100:.1f}%" in text_all
    assert "较上周" in text_all and ("变化显著" in text_all or "变化不显著" in text_all)
    assert len(document.inline_shapes) == 4
    assert len(document.tables) == 2
    page = client.get("/admin/exports/briefing?from=2026-11-23&to=2026-11-29")
    body = page.get_data(as_text=True)
    assert "@page" in body and "data:image/png;base64," in body
    assert f"{aware.estimate * 100:.1f}%" in body


def test_raw_responses_csv_sav_and_codebook(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
    tmp_path: Path,
) -> None:
    with answered_staff.app_context():
        total, flagged = db.session.execute(
            text(
                "SELECT count(*), sum(CASE WHEN (flags & :bit) <> 0 THEN 1 ELSE 0 END)"
                " FROM responses"
            ),
            {"bit": int(QualityFlag.EXCLUDED)},
        ).one()
    auth.login()
    got = client.get("/admin/exports/responses.csv?flagged=include")
    data = got.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == total
    assert sum(int(r["excluded"]) for r in rows) == flagged
    assert {"aware_report__hotline", "flag_too_fast", "point_code", "satisfaction_score"} <= set(
        rows[0]
    )
    assert "device_hash" not in rows[0]
    assert flagged > 0  # the demo's implausibly fast responses are excluded, and listed
    # The raw export lists every response whatever the filter's choice on flagged ones:
    # the excluded column says which ones the estimates leave out.
    default = client.get("/admin/exports/responses.csv").get_data().decode("utf-8-sig")
    assert len(default.strip().splitlines()) - 1 == total
    sav = client.get("/admin/exports/responses.sav?flagged=include")
    path = tmp_path / "r.sav"
    path.write_bytes(sav.get_data())
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == total
    assert meta.variable_value_labels["aware_campaign"] == {
        1.0: "知道",
        2.0: "听说过，但不太了解",
        3.0: "不知道",
    }
    assert meta.column_names_to_labels["aware_campaign"] == "您知道我市正在创建全国文明城市吗？"
    knows = sum(1 for r in rows if r["aware_campaign"] == "yes")
    assert int((frame["aware_campaign"] == 1).sum()) == knows
    dta = client.get("/admin/exports/responses.dta?flagged=include")
    (tmp_path / "r.dta").write_bytes(dta.get_data())
    frame_dta, meta_dta = pyreadstat.read_dta(str(tmp_path / "r.dta"))
    assert len(frame_dta) == total
    assert meta_dta.variable_value_labels["aware_campaign"][1] == "知道"
    codebook = client.get("/admin/exports/codebook.csv").get_data().decode("utf-8-sig")
    assert "aware_campaign" in codebook and "yes=知道" in codebook and "1=知道" in codebook


def test_table_csv_and_json(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login()
    table = client.get("/admin/exports/table-district.csv").get_data().decode("utf-8-sig")
    assert table.splitlines()[0].startswith("区县,编码,答卷,知晓率,知晓率95%下限")
    assert "临江区" in table
    one = json.loads(client.get("/admin/exports/table-week.json").get_data())
    assert one["title"] == "每周趋势" and one["rows"]
    question = client.get("/admin/exports/table-aware_campaign.csv")
    assert question.status_code == 200
    assert "选项,人数,比例" in question.get_data().decode("utf-8-sig")
    everything = json.loads(client.get("/admin/exports/report.json").get_data())
    names = [t["name"] for t in everything["tables"]]
    assert names[:5] == ["headline", "district", "street", "channel", "week"]
    assert client.get("/admin/exports/table-nonsense.csv").status_code == 400
    menu = client.get("/admin/exports").get_data(as_text=True)
    assert "Excel 报表" in menu and "SPSS" in menu


def test_briefing_defaults_to_the_newest_complete_week(answered_staff: Flask) -> None:  # noqa: F811
    import datetime as dt

    from survey.reporting.exports import files as exports
    from survey.reporting.questions import pages as question_reports

    with answered_staff.app_context():
        vf = question_reports.command_line_filter("civilized-city")
        in_week = exports.briefing_filter(vf, today=dt.date(2026, 12, 2)).filter
        assert (in_week.date_from, in_week.date_to) == (
            dt.date(2026, 11, 23),
            dt.date(2026, 11, 29),
        )
        later = exports.briefing_filter(vf, today=dt.date(2026, 12, 8)).filter
        assert later.date_from == dt.date(2026, 11, 30)
        asked = vf.filter.with_(date_from=dt.date(2026, 11, 9), date_to=dt.date(2026, 11, 15))
        kept = exports.briefing_filter(
            question_reports.VersionFilter(asked, vf.version, vf.definition)
        )
        assert kept.filter.date_from == dt.date(2026, 11, 9)
