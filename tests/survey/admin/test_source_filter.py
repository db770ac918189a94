"""The ``source`` filter (扫码 / 纸质问卷 / 入户 / 拦截 / 电话) on the dashboard, question page,
exports, JSON API and ``survey report --source``: it keeps only that source's responses,
says which source the figures are for, and an unknown source is a 400 / exit 2."""

from __future__ import annotations

import io

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import text

from survey import demo
from survey.extensions import db
from tests.survey.admin.test_dashboard import signed_in


@pytest.fixture
def mixed(staff: Flask) -> Flask:
    """Demo responses, a third of them typed in from paper."""
    with staff.app_context():
        demo.add_responses(600, seed=5)
        db.session.execute(text("UPDATE responses SET source = 'paper' WHERE id % 3 = 0"))
        db.session.commit()
    return staff


def _count(app: Flask, where: str) -> int:
    with app.app_context():
        sql = f"SELECT count(*) FROM responses WHERE flags & {1 << 30} = 0 AND {where}"
        return int(db.session.execute(text(sql)).scalar_one())


def test_api_and_pages_filter_by_source(mixed: Flask) -> None:
    client = signed_in(mixed, "city")
    every = client.get("/api/v1/estimates?by=overall&from=2000-01-01&to=2100-01-01").get_json()
    paper = client.get(
        "/api/v1/estimates?by=overall&from=2000-01-01&to=2100-01-01&source=paper"
    ).get_json()
    assert paper["filter"]["source"] == "paper"
    assert paper["filter"]["source_name"] == "纸质问卷"
    assert every["filter"]["source"] is None
    n_every = every["rows"][0]["responses"]
    n_paper = paper["rows"][0]["responses"]
    assert n_every == _count(mixed, "1 = 1")
    assert n_paper == _count(mixed, "source = 'paper'")
    assert 0 < n_paper < n_every
    assert client.get("/api/v1/estimates?source=fax").status_code == 400
    for page in ("/admin/", "/admin/questions", "/admin/exports"):
        body = client.get(f"{page}?source=paper").get_data(as_text=True)
        assert "答卷来源：</b>纸质问卷" in body or "答卷来源：纸质问卷" in body, page
        assert client.get(f"{page}?source=fax").status_code == 400


def test_workbook_and_cli_state_the_source(mixed: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(mixed, "city")
    book = client.get("/admin/exports/report.xlsx?source=door_to_door")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.data)).worksheets[0]
    notes = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "答卷来源：入户" in notes
    runner = mixed.test_cli_runner()
    out = tmp_path / "r.json"
    args = ["report", "--questionnaire", "civilized-city", "--format", "json", "--out", str(out)]
    done = runner.invoke(args=[*args, "--source", "paper"])
    assert done.exit_code == 0, done.output
    assert '"source": "paper"' in out.read_text(encoding="utf-8")
    assert runner.invoke(args=[*args, "--source", "fax"]).exit_code == 2
