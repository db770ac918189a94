"""Issue 23, item 7: every export and bulk read of responses or free text leaves an audit
entry (who, which filter, how many rows), through the real routes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from survey.extensions import db
from survey.models import AuditLog
from survey.reporting import dashboard
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in
from tests.survey.admin.test_question_pages import answered_staff  # noqa: F401
from tests.survey.admin.test_report_exports import _filter


def _last(app: Flask) -> tuple[str, str, dict[str, object]]:
    with app.app_context():
        entry = db.session.execute(
            db.select(AuditLog).order_by(AuditLog.id.desc()).limit(1)
        ).scalar_one()
        return entry.username, entry.action, json.loads(entry.detail)


def _count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(db.select(db.func.count(AuditLog.id))).scalar_one())


def _csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]


def test_report_exports_are_audited_with_filter_and_rows(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login("viewer")  # read-only accounts export too: they must be on record
    got = client.get("/admin/exports/table-district.csv?weighting=rake&from=2026-01-05")
    assert got.status_code == 200
    who, action, detail = _last(answered_staff)
    assert (who, action) == ("viewer", "export_report")
    assert detail["rows"] == len(_csv_rows(got.get_data())) > 0
    assert detail["filter"]["weighting"] == "rake"
    assert detail["filter"]["date_from"] == "2026-01-05"
    assert detail["tables"] == ["district"] and detail["format"] == "csv"
    for path, fmt in (
        ("/admin/exports/report.xlsx", "xlsx"),
        ("/admin/exports/report.json", "json"),
        ("/admin/exports/briefing.docx", "docx"),
        ("/admin/exports/briefing", "html"),
        ("/admin/exports/codebook.csv", None),
    ):
        before = _count(answered_staff)
        assert client.get(path).status_code == 200, path
        assert _count(answered_staff) == before + 1, path
        who, action, detail = _last(answered_staff)
        assert who == "viewer" and "filter" in detail and isinstance(detail["rows"], int)
        assert action == ("export_report" if fmt else "export_codebook"), path
        if fmt:
            assert detail["format"] == fmt
    body = json.loads(client.get("/admin/exports/report.json").get_data())
    _, _, detail = _last(answered_staff)
    assert detail["rows"] == sum(len(t["rows"]) for t in body["tables"])
    with answered_staff.app_context():
        board = dashboard(db.session, _filter(answered_staff))
    assert detail["responses"] == board.headline.responses > 0


def test_free_text_reads_and_downloads_are_audited(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login("linjiang")
    page = client.get("/admin/questions/text?question=suggestions")
    assert page.status_code == 200
    who, action, detail = _last(answered_staff)
    assert (who, action, detail["question"]) == ("linjiang", "read_text", "suggestions")
    assert detail["filter"]["scope_path"]  # the officer's subtree is part of the filter
    assert detail["rows"] == detail["matching"]
    got = client.get("/admin/questions/text.csv?question=suggestions&q=公")
    assert got.status_code == 200
    rows = _csv_rows(got.get_data())
    who, action, detail = _last(answered_staff)
    assert (who, action, detail["search"]) == ("linjiang", "export_text", "公")
    assert detail["rows"] == len(rows)


def test_point_responses_population_and_api_are_audited(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    auth.login("city")
    point_id = point_ids_in(answered_staff, "999901")[0]
    assert client.get(f"/admin/points/{point_id}/responses").status_code == 200
    who, action, detail = _last(answered_staff)
    assert (who, action) == ("city", "read_responses") and detail["point"]
    got = client.get("/admin/population/export.csv")
    assert got.status_code == 200
    who, action, detail = _last(answered_staff)
    assert action == "export_population" and detail["rows"] == len(_csv_rows(got.get_data()))
    body = client.get("/api/v1/estimates?by=street&weighting=poststratify").get_json()
    who, action, detail = _last(answered_staff)
    assert (action, detail["endpoint"]) == ("api_read", "estimates")
    assert detail["rows"] == len(body["rows"]) > 0
    assert detail["filter"]["weighting"] == "poststratify"
    trend = client.get("/api/v1/trend?metric=awareness").get_json()
    _, action, detail = _last(answered_staff)
    assert (detail["endpoint"], detail["rows"]) == (
        "trend",
        len(trend["series"]["awareness"]["points"]),
    )
    points = client.get("/api/points").get_json()
    _, _, detail = _last(answered_staff)
    assert detail["rows"] == len(points["points"]) > 0
    assert client.get(f"/api/points/{point_id}").status_code == 200
    _, _, detail = _last(answered_staff)
    assert (detail["endpoint"], detail["rows"]) == ("point", 1)
    audit_page = client.get("/admin/audit?action=api_read").get_data(as_text=True)
    assert audit_page.count("接口读取") >= 4


def test_command_line_report_is_audited(
    answered_staff: Flask,  # noqa: F811
    runner: FlaskCliRunner,
    tmp_path: Path,
) -> None:
    out = tmp_path / "r.csv"
    result = runner.invoke(
        args=["report", "--questionnaire", "civilized-city", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    who, action, detail = _last(answered_staff)
    assert (who, action) == ("(命令行)", "export_report")
    assert detail["bytes"] == out.stat().st_size and detail["format"] == "csv"


def test_problem_list_and_ledger_reads_are_audited(
    answered_staff: Flask,  # noqa: F811
    client: FlaskClient,
    auth: AuthActions,
) -> None:
    """The 问题清单 shows residents' comments and the problem API returns them: both are
    bulk reads of free text, logged with their filter and row count."""
    auth.login("city")
    assert client.get("/admin/problems").status_code == 200
    who, action, detail = _last(answered_staff)
    assert (who, action, detail["page"]) == ("city", "read_text", "problem_list")
    found = client.get("/api/v1/problem-list").get_json()
    _, action, detail = _last(answered_staff)
    assert (action, detail["endpoint"]) == ("api_read", "problem-list")
    assert detail["rows"] == len(found["weak_spots"]["rows"]) + found["topics"]["comments"]
    ledger = client.get("/api/v1/problems").get_json()
    _, action, detail = _last(answered_staff)
    assert (detail["endpoint"], detail["rows"]) == ("problems", len(ledger["problems"]))
