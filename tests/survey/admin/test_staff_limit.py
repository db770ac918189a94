"""Issue 23, item 5: heavy staff requests are bounded per process, through the real routes.

A raw export whose body is still being sent holds the process's one heavy slot (the default
``HEAVY_REQUESTS``); meanwhile another heavy staff request gets the Chinese 503 page with
``Retry-After`` (JSON under /api), while residents and light staff pages are served. The
slot comes back when the body is sent or closed, and after a refused or failed request.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import CollectionPoint
from survey.web.staff_limit import LIGHT_ENDPOINTS
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.test_question_pages import answered_staff  # noqa: F401


def _code(app: Flask) -> str:
    with app.app_context():
        return db.session.execute(db.select(CollectionPoint.code).limit(1)).scalar_one()


def test_heavy_staff_requests_are_bounded_and_residents_are_not(
    answered_staff: Flask,  # noqa: F811
    auth: AuthActions,
    client: FlaskClient,
) -> None:
    auth.login("viewer")
    slots = answered_staff.extensions["heavy_slots"]
    assert slots.limit == 1 and slots.running == 0
    sending = client.get("/admin/exports/responses.sav", buffered=False)
    assert sending.status_code == 200 and slots.running == 1  # its body is still going out

    busy = client.get("/admin/questions?weighting=rake")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    page = busy.get_data(as_text=True)
    assert "系统繁忙" in page and "5 秒后刷新" in page and "居民" in page
    api = client.get("/api/v1/estimates")
    assert api.status_code == 503 and api.get_json()["status"] == 503
    assert api.headers["Retry-After"] == "5"
    # Residents and light staff pages are not bounded.
    assert client.get(f"/q/{_code(answered_staff)}").status_code == 200
    assert client.get("/admin/audit").status_code == 403  # a viewer: refused, but served
    assert client.get("/api/health").status_code == 200
    assert slots.running == 1 and slots.refused == 2

    sending.close()  # the client has its file (or went away): the slot is free again
    assert slots.running == 0
    assert client.get("/admin/questions?weighting=rake").status_code == 200
    assert client.get("/admin/questions?weighting=nonsense").status_code == 400
    streamed = client.get("/admin/exports/responses.csv")
    assert streamed.get_data().count(b"\n") > 400  # read to its end
    assert slots.running == 0
    assert client.get("/admin/questions").status_code == 200


def test_the_bound_can_be_raised_or_turned_off(app_config: dict[str, object]) -> None:
    from survey import create_app

    for limit, expected in ((3, 3), (0, 0)):
        app = create_app({**app_config, "HEAVY_REQUESTS": limit})
        assert app.extensions["heavy_slots"].limit == expected


def test_light_endpoints_exist(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= LIGHT_ENDPOINTS, LIGHT_ENDPOINTS - endpoints
