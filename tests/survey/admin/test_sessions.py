"""Issue 13, item 2: logout, password change or reset, deactivation and role change end
every existing session of the user, copied cookies included."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import User
from tests.survey.admin.conftest import AuthActions


def _signed_in(app: Flask, username: str) -> tuple[FlaskClient, AuthActions]:
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(username).status_code == 302
    return client, auth


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/admin/").status_code == 200  # the copy works, to begin with
    return thief


def _user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(User.id).where(User.username == username)).scalar_one()


def _signed_out(client: FlaskClient) -> bool:
    response = client.get("/admin/")
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_logout_ends_copied_sessions_and_other_devices(staff: Flask) -> None:
    client, auth = _signed_in(staff, "linjiang")
    thief = _copy(staff, client)
    laptop, _ = _signed_in(staff, "linjiang")
    assert auth.logout().status_code == 302
    assert _signed_out(client) and _signed_out(thief) and _signed_out(laptop)
    # Signing in again works, with a new token the old cookie does not carry.
    assert auth.login("linjiang").status_code == 302
    assert not _signed_out(client) and _signed_out(thief)


def test_password_reset_by_admin_ends_the_users_sessions(staff: Flask) -> None:
    victim, _ = _signed_in(staff, "linjiang")
    thief = _copy(staff, victim)
    admin, admin_auth = _signed_in(staff, "city")
    user_id = _user_id(staff, "linjiang")
    token = admin_auth.token(f"/admin/users/{user_id}")
    response = admin.post(
        f"/admin/users/{user_id}/password",
        data={
            "csrf_token": token,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert _signed_out(victim) and _signed_out(thief)
    assert not _signed_out(admin)


def test_own_password_change_keeps_this_browser_only(staff: Flask) -> None:
    admin, auth = _signed_in(staff, "city")
    thief = _copy(staff, admin)
    user_id = _user_id(staff, "city")
    token = auth.token(f"/admin/users/{user_id}")
    response = admin.post(
        f"/admin/users/{user_id}/password",
        data={
            "csrf_token": token,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert not _signed_out(admin)  # the admin who changed it stays signed in here
    assert _signed_out(thief)


def test_password_reset_on_the_command_line_ends_sessions(staff: Flask) -> None:
    victim, _ = _signed_in(staff, "qingshan")
    result = staff.test_cli_runner().invoke(
        args=["user", "set-password", "qingshan", "--password", "a new long password"]
    )
    assert result.exit_code == 0, result.output
    assert _signed_out(victim)


def _edit(admin: FlaskClient, auth: AuthActions, user_id: int, **changes: object):  # type: ignore[no-untyped-def]
    page = f"/admin/users/{user_id}"
    data = {"csrf_token": auth.token(page), "display_name": "", "role": "district_officer"}
    data.update({"region_id": "0", "active": "y"})
    data.update({k: str(v) for k, v in changes.items()})
    if changes.get("active") is False:
        del data["active"]
    return admin.post(page, data=data)


def _region_id(app: Flask, code: str) -> int:
    from survey.models import Region

    with app.app_context():
        return db.session.execute(db.select(Region.id).where(Region.code == code)).scalar_one()


def test_deactivation_role_and_scope_changes_end_sessions(staff: Flask) -> None:
    admin, admin_auth = _signed_in(staff, "city")
    user_id = _user_id(staff, "linjiang")
    linjiang = _region_id(staff, "999901")
    qingshan = _region_id(staff, "999902")

    # A change of display name only keeps the session.
    victim, _ = _signed_in(staff, "linjiang")
    response = _edit(admin, admin_auth, user_id, region_id=linjiang, display_name="林江")
    assert response.status_code == 302
    assert not _signed_out(victim)

    # A change of scope ends it.
    response = _edit(admin, admin_auth, user_id, region_id=qingshan)
    assert response.status_code == 302
    assert _signed_out(victim)

    # A change of role ends it.
    victim, _ = _signed_in(staff, "linjiang")
    response = _edit(admin, admin_auth, user_id, role="viewer", region_id=qingshan)
    assert response.status_code == 302
    assert _signed_out(victim)

    # Deactivation ends it, and the account cannot sign in again.
    victim, auth = _signed_in(staff, "linjiang")
    response = _edit(admin, admin_auth, user_id, role="viewer", region_id=qingshan, active=False)
    assert response.status_code == 302
    assert _signed_out(victim)
    assert auth.login("linjiang").status_code == 401


def test_cookies_without_the_current_token_do_not_load(staff: Flask) -> None:
    from survey.services.users import session_user

    with staff.app_context():
        user = db.session.execute(db.select(User).where(User.username == "city")).scalar_one()
        assert user.session_token and len(user.session_token) >= 32
        assert session_user(user.get_id()) is user
        for bad in (
            str(user.id),
            f"{user.id}:",
            f"{user.id}:wrong",
            f"x:{user.session_token}",
            f"²:{user.session_token}",
            f"{2**70}:{user.session_token}",
        ):
            assert session_user(bad) is None, bad
        # An account migrated from before tokens (empty token) loads from no cookie.
        user.session_token = ""
        db.session.commit()
        assert session_user(f"{user.id}:") is None
    # Signing in gives it a token.
    assert _signed_in(staff, "city")[1].client.get("/admin/").status_code == 200
