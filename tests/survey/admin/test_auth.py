"""Sign-in, throttling, safe redirects, logout and session cookie flags."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog
from survey.models import LoginThrottle
from tests.survey.admin.conftest import PASSWORD
from tests.survey.admin.conftest import AuthActions


def test_login_page_and_success(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "登录" in page.get_data(as_text=True)
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
    home = client.get("/admin/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    nav = ("三率总览", "区域", "点位与二维码", "目标值", "人口数", "审计日志", "账号", "退出")
    for item in nav:
        assert item in text


def test_session_cookie_is_httponly_and_samesite(staff: Flask, auth: AuthActions) -> None:
    response = auth.login()
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_is_rejected(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    response = auth.login(password="wrong password!")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_passwords_are_hashed_with_scrypt(staff: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app hashes with werkzeug's scrypt (the suite swaps in a cheap method to sign in
    quickly, see tests/conftest.py; here the app's own is put back)."""
    from werkzeug.security import generate_password_hash

    import survey.services.users as users
    from survey.models import User

    with staff.app_context():
        user = db.session.execute(db.select(User).where(User.username == "city")).scalar_one()
        assert PASSWORD not in user.password_hash
        monkeypatch.setattr(users, "generate_password_hash", generate_password_hash)
        stored = users.hash_password(PASSWORD)
        assert stored.startswith("scrypt:") and PASSWORD not in stored
    assert users._DUMMY_HASH.startswith("pbkdf2:")  # the suite's swap is in place


def test_throttling_locks_username_with_429(staff: Flask, auth: AuthActions) -> None:
    limit = staff.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert auth.login(password="nope-nope-nope").status_code == 401
    locked = auth.login(password="nope-nope-nope")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    # Even the right password is refused while locked.
    assert auth.login().status_code == 429
    with staff.app_context():
        keys = list(db.session.execute(db.select(LoginThrottle.key)).scalars())
        assert "u:city" in keys
        # The client address is stored only as a keyed hash.
        assert all("127.0.0.1" not in k for k in keys)
        assert any(k.startswith("a:") and len(k) == 66 for k in keys)
        assert db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "login_locked")
        ).first()


def test_throttling_per_address_covers_many_usernames(staff: Flask, auth: AuthActions) -> None:
    per_address = 4 * staff.config["LOGIN_MAX_FAILURES"]
    statuses = [auth.login(f"guess{i}", "nope-nope-nope").status_code for i in range(per_address)]
    assert statuses[:-1] == [401] * (per_address - 1)
    assert statuses[-1] == 429
    # Another username from the same address is locked out too.
    assert auth.login().status_code == 429


def test_set_password_lifts_lock(staff: Flask, auth: AuthActions) -> None:
    from survey.services.users import get_by_username
    from survey.services.users import set_password

    for _ in range(staff.config["LOGIN_MAX_FAILURES"]):
        auth.login(password="nope-nope-nope")
    with staff.app_context():
        set_password(get_by_username("city"), "a brand new password")  # type: ignore[arg-type]
        # The address lock remains only if it reached its own limit (it did not).
        db.session.commit()
    assert auth.login(password="a brand new password").status_code == 302


def test_disabled_account_cannot_sign_in(staff: Flask, auth: AuthActions) -> None:
    from survey.services.users import get_by_username

    with staff.app_context():
        get_by_username("viewer").active = False  # type: ignore[union-attr]
        db.session.commit()
    assert auth.login("viewer").status_code == 401


def test_next_is_followed_only_on_this_site(staff: Flask, auth: AuthActions) -> None:
    assert auth.login(next_url="/admin/regions").headers["Location"].endswith("/admin/regions")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        auth.logout()
        location = auth.login(next_url=evil).headers["Location"]
        assert "evil" not in location and location.endswith("/admin/")


def test_anonymous_is_sent_to_login_with_next(staff: Flask, client: FlaskClient) -> None:
    response = client.get("/admin/points?region=1")
    assert response.status_code == 302
    assert "/admin/login?next=" in response.headers["Location"]


def test_logout_is_post_only(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout").status_code == 400  # no CSRF token
    assert auth.logout().status_code == 302
    assert client.get("/admin/").status_code == 302
