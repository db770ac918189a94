"""Issue 23, item 8: every staff page, export, chart and API answer is ``private, no-store``.

Every GET route of the staff area and the API is read from the app's URL map (so routes
added later are checked too) and fetched signed in, with real ids; error pages, the sign-in
page and the API's refusals carry the header as well.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from survey import demo
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Problem
from survey.models import Region
from survey.models import User
from tests.survey.admin.conftest import AuthActions

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
WANTED = "private, no-store"
#: Path arguments that are not ids: a value each route accepts.
ARGUMENTS = {
    "metric": "awareness",
    "name": "district",
    "fmt": "csv",
    "batch_id": 1,
    "key": "aware_campaign",
}
FORMATS = {"admin.trend_chart": "png"}


def _staff_urls(app: Flask) -> list[str]:
    with app.app_context():
        ids = {
            "point_id": db.session.execute(db.select(db.func.min(CollectionPoint.id))).scalar(),
            "region_id": db.session.execute(db.select(db.func.min(Region.id))).scalar(),
            "user_id": db.session.execute(db.select(db.func.max(User.id))).scalar(),
            # no problem in the ledger yet: its JSON is a 404, which must be no-store too
            "problem_id": db.session.execute(db.select(db.func.min(Problem.id))).scalar() or 1,
            # no sample plan in this state: the mock-assessment pages answer 404, which
            # must be private, no-store as well
            "plan_id": 1,
        }
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or not rule.rule.startswith(("/admin", "/api")):
                continue
            values = {**ARGUMENTS, **ids, "fmt": FORMATS.get(rule.endpoint, "csv")}
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return urls


def test_every_staff_and_api_response_is_private_no_store(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    with staff.app_context():
        demo.add_responses(60, seed=8, weeks=2, now=NOW)
    urls = _staff_urls(staff)
    assert len(urls) >= 30 and "/admin/exports/report.xlsx" in urls and "/api/v1/trend" in urls
    auth.login()
    statuses = {}
    for url in urls:
        got = client.get(url)
        statuses[url] = got.status_code
        got.get_data()  # streamed downloads run to their end
        assert got.headers.get("Cache-Control") == WANTED, (url, got.status_code, got.headers)
    assert sum(code == 200 for code in statuses.values()) >= 25, statuses
    for url in ("/admin/nowhere", "/admin/points/999999", "/api/v1/estimates?from=x"):
        got = client.get(url)
        assert got.status_code in (400, 404) and got.headers["Cache-Control"] == WANTED, url


def test_signed_out_answers_are_private_no_store_too(staff: Flask, client: FlaskClient) -> None:
    for url in ("/admin/login", "/admin/", "/api/v1/estimates", "/admin/exports/report.xlsx"):
        got = client.get(url)
        assert got.headers.get("Cache-Control") == WANTED, (url, got.status_code)


def test_resident_pages_keep_their_own_caching(seeded: Flask, client: FlaskClient) -> None:
    with seeded.app_context():
        code = db.session.execute(db.select(CollectionPoint.code)).scalars().first()
    got = client.get(f"/q/{code}")
    assert got.status_code == 200
    assert got.headers.get("Cache-Control") != WANTED
