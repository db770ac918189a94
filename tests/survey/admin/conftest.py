"""Fixtures for the staff area: accounts per role and an ``auth`` helper that signs in."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import put_state

PASSWORD = "correct horse battery"
TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """Fetch ``path`` and return the CSRF token of its first form."""
    page = client.get(path)
    match = TOKEN_RE.search(page.get_data(as_text=True))
    assert match, f"no csrf token on {path} ({page.status_code})"
    return match.group(1)


@dataclass
class AuthActions:
    """Sign in and out through the real forms, CSRF token included."""

    client: FlaskClient

    def login(self, username: str = "city", password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
        token = csrf_token(self.client)
        return self.client.post(
            "/admin/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": token,
                "next": next_url,
            },
        )

    def token(self, path: str = "/admin/") -> str:
        return csrf_token(self.client, path)

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/admin/logout", data={"csrf_token": self.token()})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def create_staff_accounts() -> None:
    """The five accounts of the ``staff`` state (see ``staff``), on the seeded demo city."""
    from survey.extensions import db
    from survey.models import Region
    from survey.services.users import create_user

    regions = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    create_user("city", PASSWORD, "city_admin")
    create_user("linjiang", PASSWORD, "district_officer", regions["999901"])
    create_user("qingshan", PASSWORD, "district_officer", regions["999902"])
    create_user("viewer", PASSWORD, "viewer")
    create_user("street_officer", PASSWORD, "district_officer", regions["999901001"])


@pytest.fixture
def staff(seeded: Flask, request: pytest.FixtureRequest) -> Flask:
    """The seeded demo city plus one account per role.

    city (city admin), linjiang (officer of 临江区 999901), qingshan (officer of 青山区
    999902), viewer (read-only, whole city), street_officer (officer of 滨江街道 999901001).
    Created (and their passwords hashed) once per session and backend, like ``seeded``.
    """
    put_state(request, seeded, "staff", "seeded", create_staff_accounts)
    return seeded


def point_ids_in(app: Flask, district_code: str) -> list[int]:
    """Ids of the points inside a district."""
    from survey.extensions import db
    from survey.models import CollectionPoint
    from survey.models import Region

    with app.app_context():
        district = db.session.execute(
            db.select(Region).where(Region.code == district_code)
        ).scalar_one()
        return list(
            db.session.execute(
                db.select(CollectionPoint.id)
                .join(Region, Region.id == CollectionPoint.region_id)
                .where(Region.path.startswith(district.path))
                .order_by(CollectionPoint.id)
            ).scalars()
        )
