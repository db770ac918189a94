"""The staff quality page: ranking, evidence, reviews, scope, the responses export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from survey.extensions import db
from survey.models import AuditLog
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from survey.services.integrity.screening import Screen
from survey.services.integrity.sweep import sweep_all
from survey.services.questionnaires import definition_of
from survey.services.responses import store_response
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in
from tests.survey.integrity.conftest import random_answers

EXCLUDED = int(QualityFlag.EXCLUDED)


def _attack(app: Flask, district: str = "999901", n: int = 12) -> int:
    """Too-fast responses at the first point of a district, swept; return the point id."""
    import random

    point_id = point_ids_in(app, district)[0]
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with app.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None
        defn = definition_of(point.questionnaire_version)
        for i in range(n):
            submitted = now + dt.timedelta(seconds=90 * i)
            store_response(
                point,
                defn,
                random_answers(defn, random.Random(i), "999901001"),
                served_at=submitted - dt.timedelta(seconds=4),
                submitted_at=submitted,
                device_hash=f"d{district}{i}",
                form_instance=f"i{district}{i}",
                screen=Screen(network_hash=f"n{i}", agent_hash="a"),
            )
        db.session.commit()
        sweep_all(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    return point_id


def test_quality_page_ranks_points_with_evidence(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    point_id = _attack(staff)
    auth.login()
    page = client.get("/admin/quality").get_data(as_text=True)
    assert "数据质量" in page and "可疑点位" in page
    assert f"/admin/quality/points/{point_id}" in page
    assert "用时过短" in page and "最短阅读用时" in page
    detail = client.get(f"/admin/quality/points/{point_id}").get_data(as_text=True)
    assert "每小时答卷数" in detail and "<svg" in detail and "确认异常" in detail
    listed = client.get("/admin/quality/flags?code=TOO_FAST&status=unreviewed")
    assert listed.status_code == 200 and listed.get_data(as_text=True).count('name="flag"') == 12
    assert client.get("/admin/quality/flags?code=NOPE").status_code == 400


def test_review_through_the_page(client: FlaskClient, staff: Flask, auth: AuthActions) -> None:
    point_id = _attack(staff)
    auth.login()
    with staff.app_context():
        ids = [str(i) for i in db.session.execute(db.select(ResponseFlag.id)).scalars()][:3]
    token = auth.token(f"/admin/quality/points/{point_id}")
    response = client.post(
        "/admin/quality/review",
        data={"csrf_token": token, "decision": "clear", "flag": ids, "next": "/admin/quality"},
    )
    assert response.status_code == 302
    with staff.app_context():
        cleared = (
            db.session.execute(db.select(ResponseFlag).where(ResponseFlag.status == "cleared"))
            .scalars()
            .all()
        )
        assert len(cleared) == 3 and all(f.reviewed_by_id for f in cleared)
        counted = db.session.execute(
            db.select(db.func.count())
            .select_from(Response)
            .where(Response.flags.bitwise_and(EXCLUDED) == 0)
        ).scalar_one()
        assert counted == 3
        audit = db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "flag_clear")
        ).scalar_one()
        assert '"count": 3' in audit.detail
    assert "排除答卷嫌疑" in client.get("/admin/audit").get_data(as_text=True)


def test_viewer_cannot_review(client: FlaskClient, staff: Flask, auth: AuthActions) -> None:
    _attack(staff)
    auth.login("viewer")
    assert client.get("/admin/quality").status_code == 200
    token = auth.token("/admin/quality")
    response = client.post(
        "/admin/quality/review", data={"csrf_token": token, "decision": "clear", "flag": ["1"]}
    )
    assert response.status_code == 403


def test_officer_sees_only_their_scope(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    theirs = _attack(staff, "999902")
    mine = _attack(staff, "999901", 4)
    auth.login("linjiang")  # officer of 999901
    page = client.get("/admin/quality").get_data(as_text=True)
    assert f"/admin/quality/points/{mine}" in page
    assert f"/admin/quality/points/{theirs}" not in page
    assert client.get(f"/admin/quality/points/{theirs}").status_code == 404
    flags = client.get("/admin/quality/flags").get_data(as_text=True)
    assert flags.count('name="flag"') == 4
    with staff.app_context():
        foreign = (
            db.session.execute(db.select(ResponseFlag.id).where(ResponseFlag.point_id == theirs))
            .scalars()
            .first()
        )
    token = auth.token("/admin/quality")
    response = client.post(
        "/admin/quality/review",
        data={"csrf_token": token, "decision": "confirm", "flag": [str(foreign)]},
    )
    assert response.status_code == 404


def test_point_window_form(client: FlaskClient, staff: Flask, auth: AuthActions) -> None:
    point_id = point_ids_in(staff, "999901")[0]
    auth.login()
    token = auth.token(f"/admin/quality/points/{point_id}")
    response = client.post(
        f"/admin/quality/points/{point_id}/window",
        data={"csrf_token": token, "hours": "08:00-20:00", "starts_at": "", "ends_at": ""},
    )
    assert response.status_code == 302
    assert "每天08:00—20:00" in client.get(f"/admin/quality/points/{point_id}").get_data(
        as_text=True
    )


def test_responses_export_from_the_staff_area(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    _attack(staff, "999902", 3)
    _attack(staff, "999901", 2)
    auth.login("linjiang")
    response = client.get("/admin/exports/responses.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2  # the officer's scope only
    assert rows[0]["flags"].split(";")[0] == "TOO_FAST" and rows[0]["excluded"] == "1"
    with staff.app_context():
        assert db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "export_responses")
        ).scalar_one()


def test_responses_export_command(runner: FlaskCliRunner, staff: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _attack(staff, "999902", 3)
    out = tmp_path / "responses.csv"
    result = runner.invoke(
        args=[
            "responses",
            "export",
            "--questionnaire",
            "civilized-city",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    for column in (
        "id", "point_code", "district", "channel", "source", "submitted_at",
        "duration_seconds", "flags", "excluded", "awareness", "participation",
        "satisfaction", "satisfaction_score", "sat_overall", "aware_campaign",
    ):  # fmt: skip
        assert column in header, column
    assert "device_hash" not in header and "network_hash" not in header
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and {r["excluded"] for r in rows} == {"1"}
    # China time, as the codebook says (提交时间（北京时间）).
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0]["submitted_at"])
    missing = runner.invoke(
        args=["responses", "export", "--questionnaire", "nope", "--out", str(out)]
    )
    assert missing.exit_code == 2


def test_integrity_commands(runner: FlaskCliRunner, staff: Flask) -> None:
    _attack(staff, "999902", 3)
    result = runner.invoke(args=["integrity", "sweep"])
    assert result.exit_code == 0 and "examined 0 responses" in result.output
    status = runner.invoke(args=["integrity", "status"])
    assert "TOO_FAST" in status.output and "unreviewed" in status.output
    code = point_code(staff)
    window = runner.invoke(args=["integrity", "window", code, "--hours", "08:00-20:00"])
    assert window.exit_code == 0, window.output
    bad = runner.invoke(args=["integrity", "window", code, "--hours", "8 to 20"])
    assert bad.exit_code == 2 and "HH:MM-HH:MM" in bad.output


def point_code(app: Flask) -> str:
    with app.app_context():
        return str(db.session.execute(db.select(CollectionPoint.code)).scalars().first())
