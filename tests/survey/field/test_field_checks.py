"""Curbstoning flags after a sync: too short, identical answers, many in a row at one place;
weak until a reviewer confirms one (then the interview leaves the estimates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient

from tests.survey.admin.conftest import AuthActions
from tests.survey.field.conftest import Fieldwork
from tests.survey.field.conftest import record

SAT = ("satisfied", "fairly_satisfied", "needs_improvement", "very_dissatisfied")


def _varied(unit: int, i: int, end: dt.datetime, minutes: float) -> dict[str, Any]:
    one = record(unit)
    k = i + 5  # never (0, 1): the answers record() gives the made-up interviews below
    digits = {"sat_sanitation": SAT[k % 4], "sat_traffic": SAT[(k // 4) % 4]}
    one["answers"] = [[k, digits.get(k, v)] for k, v in one["answers"]]
    one["answers"] = [[k, v] for k, v in one["answers"] if k != "age_group"] + [
        ["age_group", ("18-29", "30-39", "40-49", "50-59", "60+")[i % 5]]
    ]
    one["finished_at"] = end.isoformat()
    one["started_at"] = (end - dt.timedelta(minutes=minutes)).isoformat()
    return one


def _flags(client: FlaskClient) -> dict[str, set[int]]:
    from survey.extensions import db
    from survey.models import ResponseFlag

    with client.application.app_context():
        rows = db.session.execute(db.select(ResponseFlag.code, ResponseFlag.response_id)).all()
    out: dict[str, set[int]] = {}
    for code, rid in rows:
        out.setdefault(code, set()).add(rid)
    return out


def _sync(client: FlaskClient, records: list[dict[str, Any]]) -> None:
    token = client.get("/field/token").get_json()["csrf"]
    response = client.post("/field/sync", json={"records": records}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_short_uniform_and_runs_are_flagged_and_reviewable(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    from survey.extensions import db
    from survey.models import QualityFlag
    from survey.models import Response

    auth.login("iv_linjiang")
    unit = fieldwork.units["iv_linjiang"][0]
    start = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    honest = [_varied(unit, i, start + dt.timedelta(hours=i), 12) for i in range(10)]
    _sync(client, honest)
    assert _flags(client) == {}
    fake_at = start + dt.timedelta(hours=20)
    copies = [record(unit) for _ in range(5)]
    for i, one in enumerate(copies):
        one["finished_at"] = (fake_at + dt.timedelta(minutes=2 * i)).isoformat()
        one["started_at"] = (fake_at + dt.timedelta(minutes=2 * i - 1)).isoformat()
    _sync(client, copies)
    flags = _flags(client)
    with client.application.app_context():
        fake_ids = set(
            db.session.execute(
                db.select(Response.id).where(
                    Response.form_instance.in_([c["uuid"] for c in copies])
                )
            ).scalars()
        )
    assert flags["FIELD_SHORT"] == fake_ids
    assert flags["FIELD_UNIFORM"] == fake_ids
    assert flags["FIELD_RUN"] == fake_ids
    with client.application.app_context():
        bits = db.session.execute(
            db.select(Response.flags).where(Response.id.in_(fake_ids))
        ).scalars()
        assert all(not b & QualityFlag.EXCLUDED for b in bits)  # weak until reviewed
    client.post("/admin/logout", data={"csrf_token": auth.token("/field/")})
    auth.login("linjiang")  # the plan covers the whole city: not this officer's
    assert client.get(f"/admin/mock/plans/{fieldwork.plan_id}").status_code == 404
    client.post("/admin/logout", data={"csrf_token": auth.token("/admin/mock")})
    auth.login("city")
    page = client.get(f"/admin/mock/plans/{fieldwork.plan_id}").get_data(as_text=True)
    assert "访问答案雷同" in page and "同地连续访问" in page
    from survey.models import ResponseFlag

    with client.application.app_context():
        ids = list(
            db.session.execute(
                db.select(ResponseFlag.id).where(ResponseFlag.code == "FIELD_UNIFORM")
            ).scalars()
        )
    reviewed = client.post(
        f"/admin/mock/plans/{fieldwork.plan_id}/review",
        data={"csrf_token": auth.token("/admin/mock"), "flag": ids, "decision": "confirm"},
    )
    assert reviewed.status_code == 303
    with client.application.app_context():
        bits = db.session.execute(
            db.select(Response.flags).where(Response.id.in_(fake_ids))
        ).scalars()
        assert all(b & QualityFlag.EXCLUDED for b in bits)
