"""Sign-in gate on every route, district scoping (404), read-only viewers, CSRF everywhere."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Region
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in

SAMPLE_VALUES = {"int": "1", "default": "x", "path": "x", "string": "x"}
CONVERTER_SAMPLES = {"fmt": "csv", "code": "ABCDEFGHJ", "filename": "admin.css"}


def _sample_urls(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule, with sample values for its converters."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__.lower()
            kind = "int" if "integer" in converter else "default"
            values[name] = CONVERTER_SAMPLES.get(name, SAMPLE_VALUES[kind])
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def test_no_admin_or_api_route_answers_200_without_sign_in(
    staff: Flask, client: FlaskClient
) -> None:
    checked = 0
    for endpoint, method, url in _sample_urls(staff):
        if not endpoint.startswith(("admin.", "api.")):
            continue
        response = client.open(url, method=method)
        if endpoint in {"api.health", "admin.login"}:
            continue  # the health check and the sign-in page itself are public
        checked += 1
        assert response.status_code != 200, (method, url)
        assert response.status_code in {302, 400, 403}, (method, url, response.status_code)
        if endpoint.startswith("api."):
            assert response.status_code == 403
    assert checked >= 20
    assert client.get("/api/health").status_code == 200


def _client_for(app: Flask, username: str) -> tuple[FlaskClient, AuthActions]:
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(username).status_code == 302
    return client, auth


def test_district_officer_gets_404_outside_their_district(staff: Flask) -> None:
    client, _ = _client_for(staff, "linjiang")
    own = point_ids_in(staff, "999901")[0]
    other = point_ids_in(staff, "999902")[0]
    with staff.app_context():
        other_region = db.session.execute(
            db.select(Region.id).where(Region.code == "999902")
        ).scalar_one()
    for suffix in ("", "/responses", "/qr.png", "/qr.svg"):
        assert client.get(f"/admin/points/{own}{suffix}").status_code == 200, suffix
        assert client.get(f"/admin/points/{other}{suffix}").status_code == 404, suffix
    assert client.get(f"/api/points/{own}").status_code == 200
    assert client.get(f"/api/points/{other}").status_code == 404
    for path in (
        f"/admin/points/export.csv?region={other_region}",
        f"/admin/points/export.xlsx?region={other_region}",
        f"/admin/points/qr.zip?region={other_region}",
        f"/admin/points/print?region={other_region}",
        f"/admin/points?region={other_region}",
        f"/api/points?region={other_region}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/points/999999").status_code == 404
    # Nor can they act on it.
    token = AuthActions(client).token()
    assert (
        client.post(f"/admin/points/{other}/revoke", data={"csrf_token": token}).status_code == 404
    )
    assert (
        client.post(
            f"/admin/regions/{other_region}/rename", data={"csrf_token": token, "name": "x"}
        ).status_code
        == 404
    )


def test_district_officer_lists_and_exports_only_their_points(staff: Flask) -> None:
    client, _ = _client_for(staff, "linjiang")
    own = set(point_ids_in(staff, "999901"))
    listed = {p["id"] for p in client.get("/api/points").get_json()["points"]}
    assert listed == own
    csv_text = client.get("/admin/points/export.csv").get_data().decode("utf-8-sig")
    assert csv_text.count("\r\n") == len(own) + 1
    assert "临江区" in client.get("/admin/regions").get_data(as_text=True)
    assert "青山区" not in client.get("/admin/regions").get_data(as_text=True)


def test_street_officer_sees_only_their_street(staff: Flask) -> None:
    client, _ = _client_for(staff, "street_officer")
    points = client.get("/api/points").get_json()["points"]
    assert points and all(p["region"]["code"].startswith("999901001") for p in points)


def test_viewer_is_read_only(staff: Flask) -> None:
    client, auth = _client_for(staff, "viewer")
    point = point_ids_in(staff, "999902")[0]
    assert client.get(f"/admin/points/{point}").status_code == 200
    assert client.get("/admin/points/export.xlsx").status_code == 200
    token = auth.token()
    for path in (
        f"/admin/points/{point}/revoke",
        "/admin/points/new",
        "/admin/points/batch",
        "/admin/regions",
        "/admin/regions/import",
        "/admin/users",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert auth.logout().status_code == 302


def test_only_city_admin_sees_accounts_and_audit(staff: Flask) -> None:
    client, _ = _client_for(staff, "linjiang")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    client, _ = _client_for(staff, "city")
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/audit").status_code == 200


@pytest.mark.parametrize("username", ["city", "linjiang"])
def test_csrf_is_enforced_on_every_state_changing_route(staff: Flask, username: str) -> None:
    client, _ = _client_for(staff, username)
    own = point_ids_in(staff, "999901")[0]
    posts = [
        (endpoint, url.replace("/1/", f"/{own}/"))
        for endpoint, method, url in _sample_urls(staff)
        if method in {"POST", "PUT", "PATCH", "DELETE"} and endpoint.startswith("admin.")
    ]
    assert len(posts) >= 10
    for endpoint, url in posts:
        if endpoint == "admin.login":
            continue
        response = client.post(url, data={"name": "x", "code": "X1", "password": "p" * 12})
        assert response.status_code == 400, (url, response.status_code)
    # The session is still signed in: the missing token was the only problem.
    assert client.get("/admin/").status_code == 200


def test_login_form_needs_csrf(staff: Flask, client: FlaskClient) -> None:
    response = client.post("/admin/login", data={"username": "city", "password": "x"})
    assert response.status_code == 400
