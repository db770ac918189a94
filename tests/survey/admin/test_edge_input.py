"""Issue 23, items 3 and 4: dates at the edge of the calendar and digits ``int`` refuses.

Report periods outside 2000-01-01..2100-12-31 are a 400 on every report route (the
dashboard, the API, exports, charts, question pages, crosstab), a form error in the staff
forms with dates and exit status 2 in the CLI; inside the range even the first week works
(its previous period lies in 1999). Numbers typed in query strings, forms and files are
ASCII digits with a bound: ``²``, ``١``, ``2**63`` and friends are a 400 or a form error,
never a 500, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey import demo
from survey.extensions import db
from survey.models import AuditLog
from survey.models import CollectionPoint
from survey.models import PopulationCount
from survey.models import Target
from survey.numbers import parse_decimal
from survey.numbers import parse_int
from survey.reporting import ReportFilter
from tests.survey.admin.conftest import AuthActions

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)

#: The payloads of the issue, and the edges next to them.
BAD_PERIODS = (
    "from=0001-01-01&to=0001-01-07",
    "to=9999-12-31",
    "from=9999-12-25&to=9999-12-31",
    "from=1999-12-31",
    "to=2101-01-01",
)
GOOD_PERIODS = ("from=2000-01-01&to=2000-01-07", "from=2100-12-25&to=2100-12-31")
REPORT_ROUTES = (
    "/admin/",
    "/api/v1/estimates",
    "/api/v1/estimates?by=week",
    "/api/v1/trend",
    "/admin/exports/report.json",
    "/admin/exports/report.xlsx",
    "/admin/exports/table-district.csv",
    "/admin/exports/briefing",
    "/admin/exports/responses.csv",
    "/admin/charts/trend-awareness.png",
    "/admin/charts/trend-awareness.svg",
    "/admin/questions",
    "/admin/questions/text?question=suggestions",
    "/admin/questions/text.csv?question=suggestions",
    "/admin/crosstab?question=aware_campaign&by=district",
)


@pytest.fixture
def answered(staff: Flask) -> Flask:
    with staff.app_context():
        demo.add_responses(60, seed=7, weeks=2, now=NOW)
    return staff


def _with(route: str, query: str) -> str:
    return route + ("&" if "?" in route else "?") + query


@pytest.mark.parametrize("period", BAD_PERIODS)
def test_periods_outside_the_range_are_400_on_every_report_route(
    answered: Flask, client: FlaskClient, auth: AuthActions, period: str
) -> None:
    auth.login()
    for route in REPORT_ROUTES:
        got = client.get(_with(route, period))
        assert got.status_code == 400, (route, period, got.status_code)
        said = got.get_json()["message"] if got.is_json else got.get_data(as_text=True)
        assert "2000-01-01 至 2100-12-31" in said, (route, period)


def test_periods_at_the_ends_of_the_range_are_answered(
    answered: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    for period in GOOD_PERIODS:
        for route in REPORT_ROUTES:
            got = client.get(_with(route, period))
            assert got.status_code == 200, (route, period, got.status_code)
            got.get_data()  # a streamed download runs to its end, as a browser reads it


def test_previous_period_never_overflows() -> None:
    first = ReportFilter(1, date_from=dt.date(2000, 1, 1), date_to=dt.date(2000, 1, 7))
    previous = first.previous()
    assert previous is not None
    assert (previous.date_from, previous.date_to) == (dt.date(1999, 12, 25), dt.date(1999, 12, 31))
    whole = ReportFilter(1, date_from=dt.date(2000, 1, 1), date_to=dt.date(2100, 12, 31))
    assert whole.previous() is not None
    at_the_start = ReportFilter(1, date_from=dt.date(1, 1, 1), date_to=dt.date(1, 1, 7))
    assert at_the_start.previous() is None


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--from", "0001-01-01", "--to", "0001-01-07"], "--from"),
        (["--to", "9999-12-31"], "--to"),
    ],
)
def test_cli_refuses_dates_outside_the_range_with_exit_2(
    answered: Flask, tmp_path: Path, args: list[str], shown: str
) -> None:
    out = tmp_path / "r.json"
    base = ["report", "--questionnaire", "civilized-city", "--format", "json", "--out", str(out)]
    result = answered.test_cli_runner().invoke(args=[*base, *args])
    assert result.exit_code == 2, result.output
    assert "2000-01-01 至 2100-12-31" in result.output and shown in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's usage error, nothing raised
    assert not out.exists()


@pytest.mark.parametrize("version", [str(2**64), "0", "²"])
def test_cli_refuses_version_numbers_the_database_cannot_hold(
    answered: Flask, tmp_path: Path, version: str
) -> None:
    out = tmp_path / "r.json"
    base = ["report", "--questionnaire", "civilized-city", "--format", "json", "--out", str(out)]
    result = answered.test_cli_runner().invoke(args=[*base, "--version", version])
    assert result.exit_code == 2, result.output
    assert "--version" in result.output and "Traceback" not in result.output
    assert not out.exists()


def _point_id(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(db.select(db.func.min(CollectionPoint.id))).scalar_one())


def test_staff_forms_refuse_dates_outside_the_range(
    answered: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    point_id = _point_id(answered)
    token = auth.token(f"/admin/quality/points/{point_id}")
    for moment in ("0001-01-01T00:00", "9999-12-31T23:59"):
        got = client.post(
            f"/admin/quality/points/{point_id}/window",
            data={"csrf_token": token, "starts_at": moment, "hours": ""},
            follow_redirects=True,
        )
        assert got.status_code == 200, got.status_code
        assert "日期超出支持的范围" in got.get_data(as_text=True)
        token = auth.token("/admin/points/new")
        got = client.post(
            "/admin/points/new", data={"csrf_token": token, "label": "x", "expires_at": moment}
        )
        assert got.status_code == 400 and "日期超出支持的范围" in got.get_data(as_text=True)
    with answered.app_context():
        actions = set(db.session.execute(db.select(AuditLog.action)).scalars())
    assert "point_window" not in actions and "point_issue" not in actions


@pytest.mark.parametrize(
    "url",
    [
        "/admin/quality?days=²",
        "/admin/quality?days=١",
        f"/admin/quality?days={2**63}",
        "/admin/quality?days=1e3",
        "/admin/quality/flags?page=²",
        "/admin/quality/flags?page=٣",
        f"/admin/quality/flags?page={2**63}",
        "/admin/quality/flags?page=-1",
        "/admin/questions/text?question=suggestions&page=²",
        f"/admin/questions/text?question=suggestions&page={2**64}",
    ],
)
def test_query_numbers_that_int_refuses_are_400(
    answered: Flask, client: FlaskClient, auth: AuthActions, url: str
) -> None:
    auth.login()
    got = client.get(url)
    assert got.status_code == 400, (url, got.status_code)


def test_good_query_numbers_still_work(
    answered: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    for url in ("/admin/quality?days=30", "/admin/quality?days=5", "/admin/quality/flags?page=2"):
        assert client.get(url).status_code == 200, url
    assert "近 30 天" in client.get("/admin/quality?days=30").get_data(as_text=True)


def _population_rows(client: FlaskClient) -> list[list[str]]:
    template = client.get("/admin/population/export.csv").get_data(as_text=True)
    return [line.split(",") for line in template.lstrip("\ufeff").splitlines()]


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("²", "不是整数"),
        ("١٢", "不是整数"),
        ("１２", "不是整数"),
        ("1_000", "不是整数"),
        (str(2**63), "超出上限"),
        (str(2**64), "超出上限"),
        ("100000001", "超出上限"),
        ("-5", "不能为负数"),
    ],
)
def test_population_counts_int_refuses_are_row_errors(
    answered: Flask, client: FlaskClient, auth: AuthActions, count: str, message: str
) -> None:
    auth.login()
    with answered.app_context():
        before = sorted(
            db.session.execute(db.select(PopulationCount.region_id, PopulationCount.count)).all()
        )
    rows = _population_rows(client)
    rows[1][-1] = count
    body = "\n".join(",".join(r) for r in rows).encode("utf-8")
    got = client.post(
        "/admin/population",
        data={"csrf_token": auth.token("/admin/population"), "file": (io.BytesIO(body), "p.csv")},
        content_type="multipart/form-data",
    )
    assert got.status_code == 400, got.status_code
    assert "第 2 行" in got.get_data(as_text=True) and message in got.get_data(as_text=True)
    with answered.app_context():
        after = sorted(
            db.session.execute(db.select(PopulationCount.region_id, PopulationCount.count)).all()
        )
    assert after == before


@pytest.mark.parametrize("raw", ["²", "١٠", "nan", "inf", "1e2", "9" * 400, "-5", "1_0"])
def test_targets_that_are_not_plain_numbers_are_refused(
    answered: Flask, client: FlaskClient, auth: AuthActions, raw: str
) -> None:
    auth.login()
    token = auth.token("/admin/targets")
    got = client.post("/admin/targets", data={"csrf_token": token, "awareness": raw})
    assert got.status_code in (200, 400), got.status_code
    assert "不是 0 到 100 之间的数字" in got.get_data(as_text=True)
    with answered.app_context():
        stored = db.session.execute(
            db.select(Target.threshold).where(Target.metric == "awareness")
        ).scalar_one_or_none()
    assert stored != float("nan") and (stored is None or 0 <= stored <= 1)


def test_the_number_parser() -> None:
    assert parse_int("42") == 42 and parse_int(" 7 ") == 7 and parse_int("0") == 0
    for bad in ("²", "١", "１", "+1", "1_0", "1.0", "", " ", "0x10", "1e3", "-1"):
        assert parse_int(bad) is None, bad
    assert parse_int(str(2**63 - 1)) == 2**63 - 1
    assert parse_int(str(2**63)) is None and parse_int("9" * 10_000) is None
    assert parse_int("-5", minimum=-10) == -5 and parse_int("-11", minimum=-10) is None
    assert parse_int("11", maximum=10) is None and parse_int("010", maximum=10) == 10
    assert parse_decimal("92.5", maximum=100) == 92.5 and parse_decimal(".5", maximum=1) == 0.5
    for bad in ("nan", "inf", "1e2", "-1", "١", "1_0", "1.", "", "101"):
        assert parse_decimal(bad, maximum=100) is None, bad
