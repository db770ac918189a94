"""Issue 13, item 8: sign-in throttling that cannot be turned into a lock-out weapon.

Failures lock the (username, address) pair with backoff; a global cap per username and
per address stops spraying, but not for an address the user signed in from before;
city admins see locked accounts and unlock them (audit-logged).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog
from survey.models import LoginThrottle
from survey.models import User
from tests.survey.admin.conftest import PASSWORD
from tests.survey.admin.conftest import csrf_token

WRONG = "not the password"


def login(client: FlaskClient, username: str, password: str, address: str) -> int:
    """Sign in through the form from ``address``; the status code."""
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token, "next": ""},
        environ_base=environ,
    )
    if response.status_code == 302:
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    return response.status_code


def test_attacker_cannot_lock_out_a_user_from_another_address(staff: Flask) -> None:
    attacker, user = staff.test_client(), staff.test_client()
    limit = staff.config["LOGIN_MAX_FAILURES"]
    statuses = [login(attacker, "city", WRONG, "198.51.100.9") for _ in range(limit + 3)]
    assert statuses[: limit - 1] == [401] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    # Even the right password is refused from the attacker's address ...
    assert login(attacker, "city", PASSWORD, "198.51.100.9") == 429
    # ... but the user, from an address never seen before, signs in.
    assert login(user, "city", PASSWORD, "192.0.2.10") == 302


def test_backoff_doubles_up_to_the_cap(staff: Flask) -> None:
    from survey.services.login_throttle import keys_for

    client = staff.test_client()
    limit = staff.config["LOGIN_MAX_FAILURES"]
    base = staff.config["LOGIN_BACKOFF_SECONDS"]
    cap = staff.config["LOGIN_LOCK_SECONDS"]
    with staff.app_context():
        key = keys_for("viewer", "198.51.100.20").pair
    locks: list[float] = []
    for _ in range(limit + 8):
        assert login(client, "viewer", WRONG, "198.51.100.20") in {401, 429}
        with staff.app_context():
            row = db.session.get(LoginThrottle, key)
            assert row is not None and row.window_start is not None
            if row.locked_until is not None:
                locks.append((row.locked_until - row.window_start).total_seconds())
                row.locked_until = None  # let the lock run out: the next attempt counts
                db.session.commit()
    assert len(locks) == 9
    assert locks[:4] == [base, 2 * base, 4 * base, 8 * base]
    assert locks[-1] == cap and max(locks) == cap


def test_global_cap_stops_spraying_but_not_the_users_own_address(staff: Flask) -> None:
    home, elsewhere = staff.test_client(), staff.test_client()
    assert login(home, "city", PASSWORD, "192.0.2.44") == 302  # the user's usual address
    cap = staff.config["LOGIN_MAX_FAILURES_PER_USERNAME"]
    spray = staff.test_client()
    # Slow spraying: a couple of guesses from each of many addresses.
    statuses = [login(spray, "city", WRONG, f"203.0.113.{i // 2}") for i in range(cap + 2)]
    assert statuses[-1] == 429 and statuses[0] == 401
    with staff.app_context():
        row = db.session.get(LoginThrottle, "u:city")
        assert row is not None and row.locked_until is not None
    # A new address is refused while the username is capped ...
    assert login(elsewhere, "city", PASSWORD, "192.0.2.99") == 429
    # ... the user's own address is not.
    assert login(home, "city", PASSWORD, "192.0.2.44") == 302


def test_one_shared_address_cannot_lock_out_everyone(staff: Flask) -> None:
    """Behind a proxy without ProxyFix every request comes from one address."""
    proxy = "10.0.0.1"
    colleague = staff.test_client()
    assert login(colleague, "linjiang", PASSWORD, proxy) == 302  # signed in before
    attacker = staff.test_client()
    per_address = staff.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    statuses = [login(attacker, f"guess{i}", WRONG, proxy) for i in range(per_address)]
    assert statuses[-1] == 429
    # New accounts from that address wait; a user who signed in from there before does not.
    assert login(staff.test_client(), "qingshan", PASSWORD, proxy) == 429
    assert login(colleague, "linjiang", PASSWORD, proxy) == 302


def test_admin_sees_locked_accounts_and_unlocks_them(staff: Flask) -> None:
    attacker = staff.test_client()
    for _ in range(staff.config["LOGIN_MAX_FAILURES"]):
        login(attacker, "qingshan", WRONG, "198.51.100.30")
    assert login(attacker, "qingshan", PASSWORD, "198.51.100.30") == 429

    admin = staff.test_client()
    token = csrf_token(admin)
    admin.post(
        "/admin/login",
        data={"username": "city", "password": PASSWORD, "csrf_token": token, "next": ""},
    )
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "被锁定的账号" in page and "qingshan" in page.split("被锁定的账号")[1]
    with staff.app_context():
        user_id = db.session.execute(
            db.select(User.id).where(User.username == "qingshan")
        ).scalar_one()
    # Only a city admin may unlock; a CSRF token is required.
    officer = staff.test_client()
    login_token = csrf_token(officer)
    officer.post(
        "/admin/login",
        data={"username": "linjiang", "password": PASSWORD, "csrf_token": login_token, "next": ""},
    )
    assert (
        officer.post(
            f"/admin/users/{user_id}/unlock", data={"csrf_token": csrf_token(officer, "/admin/")}
        ).status_code
        == 403
    )
    assert admin.post(f"/admin/users/{user_id}/unlock").status_code == 400
    response = admin.post(
        f"/admin/users/{user_id}/unlock", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert response.status_code == 302
    assert (
        "qingshan"
        not in admin.get("/admin/users")
        .get_data(as_text=True)
        .split("被锁定的账号")[1]
        .split("新建账号")[0]
    )
    assert login(attacker, "qingshan", PASSWORD, "198.51.100.30") == 302
    with staff.app_context():
        entry = db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "user_unlock")
        ).scalar_one()
        assert entry.username == "city" and "qingshan" in entry.detail


def test_locks_expire(staff: Flask) -> None:
    from survey.models.base import utcnow
    from survey.services.login_throttle import locked_accounts

    client = staff.test_client()
    for _ in range(staff.config["LOGIN_MAX_FAILURES"]):
        login(client, "viewer", WRONG, "198.51.100.40")
    with staff.app_context():
        assert [a.user.username for a in locked_accounts()] == ["viewer"]
        later = utcnow() + dt.timedelta(seconds=staff.config["LOGIN_LOCK_SECONDS"] + 1)
        assert locked_accounts(later) == []
