"""The field sync through HTTP: stored once, retries store nothing, scope and bad input."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.survey.admin.conftest import AuthActions
from tests.survey.field.conftest import Fieldwork
from tests.survey.field.conftest import record


def _counts(app: Flask) -> tuple[int, int, int]:
    from survey.extensions import db
    from survey.models import ContactAttempt
    from survey.models import Response

    with app.app_context():
        responses = db.session.execute(
            db.select(db.func.count()).where(Response.source != "qr")
        ).scalar_one()
        attempts = db.session.execute(db.select(db.func.count(ContactAttempt.id))).scalar_one()
        linked = db.session.execute(
            db.select(db.func.count(ContactAttempt.id)).where(
                ContactAttempt.response_id.is_not(None)
            )
        ).scalar_one()
    return responses, attempts, linked


def _sync(client: FlaskClient, records: list[dict[str, Any]]) -> Any:
    token = client.get("/field/token").get_json()["csrf"]
    return client.post("/field/sync", json={"records": records}, headers={"X-CSRFToken": token})


def test_sync_stores_once_and_reports_what_it_had(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_linjiang")
    unit = fieldwork.units["iv_linjiang"][0]
    records = [record(unit) for _ in range(3)] + [record(unit, "non_contact") for _ in range(2)]
    first = _sync(client, records)
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert (body["responses"], body["attempts"], body["already"]) == (3, 2, [])
    assert sorted(body["stored"]) == sorted(r["uuid"] for r in records)
    assert _counts(fieldwork_app(client)) == (3, 5, 3)
    again = _sync(client, records).get_json()
    assert (again["stored"], again["responses"], again["attempts"]) == ([], 0, 0)
    assert sorted(again["already"]) == sorted(r["uuid"] for r in records)
    assert _counts(fieldwork_app(client)) == (3, 5, 3)
    known = client.post(
        "/field/known",
        json={"uuids": [records[0]["uuid"], "00000000-0000-4000-8000-000000000000"]},
        headers={"X-CSRFToken": client.get("/field/token").get_json()["csrf"]},
    )
    assert known.get_json()["known"] == [records[0]["uuid"]]


def fieldwork_app(client: FlaskClient) -> Flask:
    return client.application


def test_stored_interview_carries_source_community_and_interviewer(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    from survey.extensions import db
    from survey.models import ContactAttempt
    from survey.models import PlanUnit
    from survey.models import Response
    from survey.models import User

    auth.login("iv_linjiang")
    unit_id = fieldwork.units["iv_linjiang"][0]
    one = record(unit_id, mode="phone")
    assert _sync(client, [one]).status_code == 200
    with client.application.app_context():
        response = db.session.execute(
            db.select(Response).where(Response.form_instance == one["uuid"])
        ).scalar_one()
        attempt = db.session.execute(
            db.select(ContactAttempt).where(ContactAttempt.client_uuid == one["uuid"])
        ).scalar_one()
        unit = db.session.get(PlanUnit, unit_id)
        assert unit is not None
        assert response.source == "phone"
        assert response.region_id == unit.community_id
        assert response.district_id == unit.district_id
        assert response.point_id is None
        assert attempt.response_id == response.id
        interviewer = db.session.get(User, attempt.interviewer_id)
        assert interviewer is not None and interviewer.username == "iv_linjiang"
        assert response.awareness is not None  # scored as a resident's response


def test_outside_the_assignment_is_403_and_stores_nothing(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_linjiang")
    mine = fieldwork.units["iv_linjiang"][0]
    theirs = fieldwork.units["iv_qingshan"][0]
    response = _sync(client, [record(mine), record(theirs)])
    assert response.status_code == 403
    assert _counts(client.application) == (0, 0, 0)


def test_bad_records_are_400_and_store_nothing(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_linjiang")
    unit = fieldwork.units["iv_linjiang"][0]
    incomplete = record(unit)
    incomplete["answers"] = [p for p in incomplete["answers"] if p[0] != "sex"]
    cases = [
        [record(unit), incomplete],
        [record(unit), record(unit, phone="13800000000")],
        [record(unit, disposition="maybe")],
        [record(unit, uuid="not-a-uuid")],
        [record(unit, "refusal", answers=[["sex", "male"]])],
        [record(unit, answers=[["sex", "robot"]])],
    ]
    for records in cases:
        response = _sync(client, records)
        assert response.status_code == 400, records
        assert response.get_json()["message"], records
    assert _counts(client.application) == (0, 0, 0)


def test_interviewer_sees_no_staff_pages(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_linjiang")
    assert client.get("/admin/").status_code == 302  # to the field form
    for path in (
        "/admin/charts/trend-awareness.svg",
        "/admin/quality",
        "/admin/points",
        "/admin/mock",
        "/admin/questions",
        "/api/v1/estimates",
        "/api/points",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get("/field/").status_code == 200


def test_staff_cannot_use_the_field_sync(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("linjiang")
    assert client.get("/field/").status_code == 403


def test_an_interviewer_learns_nothing_of_another_interviewers_records(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_qingshan")
    theirs = record(fieldwork.units["iv_qingshan"][0])
    assert _sync(client, [theirs]).status_code == 200
    client.post("/admin/logout", data={"csrf_token": auth.token("/field/")})
    auth.login("iv_linjiang")
    token = client.get("/field/token").get_json()["csrf"]
    known = client.post(
        "/field/known", json={"uuids": [theirs["uuid"]]}, headers={"X-CSRFToken": token}
    )
    assert known.get_json()["known"] == []
    home = client.get("/field/").get_data(as_text=True)
    assert "iv_qingshan" not in home and theirs["uuid"] not in home
    for path in ("/admin/quality/flags", "/admin/exports", "/api/points"):
        assert client.get(path).status_code == 403, path


def test_a_lost_race_stores_nothing_twice_and_keeps_the_request_working(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions, monkeypatch: Any
) -> None:
    """A concurrent sync (another tab) stored the records between this sync's look-up and its
    insert: the unique keys refuse the insert, the attempt goes back to its savepoint (not
    the whole request's transaction), the batch is looked at again and reported ``already``."""
    from survey.services import field_sync

    auth.login("iv_linjiang")
    unit = fieldwork.units["iv_linjiang"][0]
    records = [record(unit), record(unit, "non_contact")]
    assert _sync(client, records).status_code == 200
    real_known = field_sync._known
    looks: list[int] = []

    def stale_first(uuids: Any) -> set[str]:
        looks.append(len(uuids))
        return set() if len(looks) == 1 else real_known(uuids)  # the first look is stale

    monkeypatch.setattr(field_sync, "_known", stale_first)
    fresh = record(unit, "non_contact")
    again = _sync(client, [*records, fresh])
    assert again.status_code == 200, again.get_data(as_text=True)
    body = again.get_json()
    assert len(looks) == 2
    assert sorted(body["already"]) == sorted(r["uuid"] for r in records)
    assert body["stored"] == [fresh["uuid"]]
    assert _counts(fieldwork_app(client)) == (1, 3, 1)
