"""Issue 13, item 7: security headers on every page, Secure cookies, trusted proxies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey.errors import ConfigError
from tests.conftest import _config
from tests.survey.admin.conftest import PASSWORD
from tests.survey.admin.conftest import AuthActions

TEMPLATES = Path(__file__).resolve().parents[2] / "survey" / "templates"


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build a seeded app with extra settings (one staff account, ``city``)."""
    from survey import create_app
    from survey.extensions import db

    apps: list[Flask] = []

    def build(**extra: Any) -> Flask:
        instance = tmp_path / f"instance{len(apps)}"
        instance.mkdir()
        app = create_app(_config(database_url, instance, **extra))
        apps.append(app)
        if len(apps) == 1:
            _seed(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _seed(app: Flask) -> None:
    from survey.bootstrap import seed_demo_city
    from survey.extensions import db
    from survey.services.users import create_user

    with app.app_context():
        seed_demo_city()
        create_user("city", PASSWORD, "city_admin")
        db.session.commit()


def _code(app: Flask) -> str:
    from survey.extensions import db
    from survey.models import CollectionPoint

    with app.app_context():
        code = db.session.execute(db.select(CollectionPoint.code)).scalars().first()
        assert code is not None
        return code


def test_every_kind_of_page_carries_the_security_headers(make_app: Any) -> None:
    app = make_app()
    client = app.test_client()
    auth = AuthActions(client)
    code = _code(app)
    pages = ["/", f"/q/{code}", "/admin/login", "/api/health", "/static/public.css", "/nope"]
    responses = [client.get(p) for p in pages]
    assert auth.login().status_code == 302
    responses += [client.get(p) for p in ("/admin/", "/admin/points", "/api/points")]
    responses.append(client.post(f"/q/{code}", data={"x": "1"}))  # a refused submission
    for response in responses:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
        assert "object-src 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP
        for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
            assert len(headers.getlist(name)) == 1, name  # added once, not per layer
        response.close()


def test_templates_need_no_inline_script() -> None:
    """script-src 'self': no inline <script> blocks or on* handlers in any template."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert "javascript:" not in text, path


def _set_cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.getlist("Set-Cookie")


def test_session_cookie_secure_follows_the_base_url(make_app: Any) -> None:
    plain = make_app()
    auth = AuthActions(plain.test_client())
    cookies = _set_cookies(auth.login())
    assert cookies and not any("Secure" in c for c in cookies)

    tls = make_app(BASE_URL="https://survey.example.cn")
    assert tls.config["SESSION_COOKIE_SECURE"] is True
    assert tls.config["REMEMBER_COOKIE_SECURE"] is True
    client = tls.test_client()
    auth = AuthActions(client)
    response = auth.login()
    session = [c for c in _set_cookies(response) if c.startswith("session=")]
    assert session and all("Secure" in c for c in session)
    # A device cookie on an HTTPS site is Secure as well.
    device = [c for c in _set_cookies(client.get(f"/q/{_code(tls)}")) if c.startswith("sv_device")]
    assert device and "Secure" in device[0]
    # An explicit setting wins.
    assert (
        make_app(BASE_URL="https://x.cn", SESSION_COOKIE_SECURE=False).config[
            "SESSION_COOKIE_SECURE"
        ]
        is False
    )


def test_trusted_proxy_makes_the_device_cookie_secure_and_the_address_real(
    make_app: Any,
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    direct = make_app()
    code = _code(direct)
    cookie = _set_cookies(direct.test_client().get(f"/q/{code}", headers=forwarded))
    assert cookie and not any("Secure" in c for c in cookie)  # headers ignored without proxies

    proxied = make_app(TRUSTED_PROXIES=1)
    seen: list[str | None] = []

    @proxied.get("/_address")
    def _address() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    client = proxied.test_client()
    response = client.get(f"/q/{code}", headers=forwarded)
    device = [c for c in _set_cookies(response) if c.startswith("sv_device")]
    assert device and "Secure" in device[0]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    client.get("/_address", headers=forwarded)
    assert seen == ["203.0.113.7"]


@pytest.mark.parametrize("value", ["many", -1, 11])
def test_bad_trusted_proxies_refuse_to_start(make_app: Any, value: Any) -> None:
    with pytest.raises(ConfigError, match="SURVEY_TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=value)
