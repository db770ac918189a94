"""Issue 23, item 6 and the review half of item 7: a district officer cannot clear alone a
flag that keeps a response out of estimates (two-person rule), and a review's audit entry
lists every flag and response it touched, through the real routes."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.test_quality import _attack

EXCLUDED = int(QualityFlag.EXCLUDED)


def _flags(app: Flask, point_id: int) -> list[ResponseFlag]:
    with app.app_context():
        rows = db.session.execute(
            db.select(ResponseFlag)
            .where(ResponseFlag.point_id == point_id)
            .order_by(ResponseFlag.id)
        ).scalars()
        flags = list(rows)
        db.session.expunge_all()
        return flags


def _counted(app: Flask, point_id: int) -> int:
    with app.app_context():
        return int(
            db.session.execute(
                db.select(db.func.count())
                .select_from(Response)
                .where(Response.point_id == point_id, Response.flags.bitwise_and(EXCLUDED) == 0)
            ).scalar_one()
        )


def _entries(app: Flask, action: str) -> list[tuple[str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.execute(
            db.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).scalars()
        return [(e.username, json.loads(e.detail)) for e in rows]


def _review(client: FlaskClient, auth: AuthActions, ids: list[int], decision: str) -> str:
    token = auth.token("/admin/quality")
    response = client.post(
        "/admin/quality/review",
        data={
            "csrf_token": token,
            "decision": decision,
            "flag": [str(i) for i in ids],
            "next": "/admin/quality",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_officer_clearing_a_strong_flag_only_proposes_it(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    point_id = _attack(staff, "999901", 4)  # TOO_FAST: strong flags
    flags = _flags(staff, point_id)
    assert len(flags) == 4 and all(f.strength == "strong" for f in flags)
    assert _counted(staff, point_id) == 0
    auth.login("linjiang")  # officer of 999901: the point is in their own district
    page = _review(client, auth, [f.id for f in flags[:3]], "clear")
    assert "需市级管理员确认" in page
    after = _flags(staff, point_id)
    assert [f.status for f in after] == ["unreviewed"] * 4  # nothing cleared
    assert [f.clear_proposed_by_id is not None for f in after] == [True, True, True, False]
    assert _counted(staff, point_id) == 0  # the responses stay excluded
    [(who, detail)] = _entries(staff, "flag_propose_clear")
    assert who == "linjiang" and detail["count"] == 3
    assert detail["flags"] == [f.id for f in flags[:3]]
    assert _entries(staff, "flag_clear") == []
    pending = client.get("/admin/quality/flags?status=clear_proposed").get_data(as_text=True)
    assert pending.count('name="flag"') == 3 and "linjiang 申请排除，待市级确认" in pending
    # The officer cannot reject (or confirm) a proposal either.
    _review(client, auth, [flags[0].id], "reject")
    assert _entries(staff, "flag_reject_clear") == []
    auth.logout()

    auth.login("city")  # a city-level reviewer, another person: confirms two, rejects one
    page = _review(client, auth, [flags[0].id, flags[1].id], "clear")
    assert "已排除嫌疑 2 条标记" in page
    assert _counted(staff, point_id) == 2
    [(who, detail)] = _entries(staff, "flag_clear")
    assert who == "city" and detail["proposed_by"] == {"linjiang": [flags[0].id, flags[1].id]}
    assert detail["responses"] == sorted([flags[0].response_id, flags[1].response_id])
    _review(client, auth, [flags[2].id], "reject")
    [(who, detail)] = _entries(staff, "flag_reject_clear")
    assert who == "city" and detail["proposed_by"] == {"linjiang": [flags[2].id]}
    last = _flags(staff, point_id)[2]
    assert last.status == "unreviewed" and last.clear_proposed_by_id is None
    assert _counted(staff, point_id) == 2
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "申请排除答卷嫌疑" in audit_page and "驳回排除申请" in audit_page


def test_officer_cannot_undo_a_confirmation_alone(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    point_id = _attack(staff, "999901", 2)
    flags = _flags(staff, point_id)
    auth.login("city")
    _review(client, auth, [flags[0].id], "confirm")
    auth.logout()
    auth.login("linjiang")
    _review(client, auth, [flags[0].id], "clear")
    assert _flags(staff, point_id)[0].status == "confirmed"
    assert _counted(staff, point_id) == 0
    # Confirming a flag is never held back, and it drops a pending proposal.
    _review(client, auth, [flags[1].id], "clear")
    assert _flags(staff, point_id)[1].clear_proposed_by_id is not None
    _review(client, auth, [flags[1].id], "confirm")
    second = _flags(staff, point_id)[1]
    assert second.status == "confirmed" and second.clear_proposed_by_id is None


def _many_too_fast(app: Flask, n: int) -> int:
    """``n`` too-fast responses at one point of 临江区 within the last hour, swept."""
    import datetime as dt
    import random

    from survey.models import CollectionPoint
    from survey.services.integrity.screening import Screen
    from survey.services.integrity.sweep import sweep_all
    from survey.services.questionnaires import definition_of
    from survey.services.responses import store_response
    from tests.survey.admin.conftest import point_ids_in
    from tests.survey.integrity.conftest import random_answers

    point_id = point_ids_in(app, "999901")[0]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with app.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None
        defn = definition_of(point.questionnaire_version)
        for i in range(n):
            submitted = start + dt.timedelta(seconds=30 * i)
            store_response(
                point,
                defn,
                random_answers(defn, random.Random(i), "999901001"),
                served_at=submitted - dt.timedelta(seconds=4),
                submitted_at=submitted,
                device_hash=f"many{i}",
                form_instance=f"many{i}",
                screen=Screen(network_hash=f"n{i}", agent_hash="a"),
            )
        db.session.commit()
        sweep_all(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    return point_id


def test_flag_audit_lists_every_reviewed_response(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    point_id = _many_too_fast(staff, 91)
    flags = _flags(staff, point_id)
    assert len({f.response_id for f in flags}) == 91
    auth.login("city")
    _review(client, auth, [f.id for f in flags], "clear")
    [(who, detail)] = _entries(staff, "flag_clear")
    assert who == "city"
    assert detail["count"] == len(flags)
    assert detail["responses"] == sorted({f.response_id for f in flags})  # all 91, not 50
    assert detail["flags"] == sorted(f.id for f in flags)
