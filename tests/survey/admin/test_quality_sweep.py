"""Issue 21 on the quality page: the last sweep, its failure, the sweep on request, signals."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from survey.extensions import db
from survey.models import AuditLog
from survey.models import IntegrityState
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from survey.services.integrity import background
from survey.services.integrity.sweep import record_failure
from survey.services.integrity.sweep import sweep_all
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.test_quality import _attack


def test_the_page_shows_the_last_sweep_and_its_failure(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    auth.login()
    page = client.get("/admin/quality").get_data(as_text=True)
    assert "尚未扫描" in page and "扫描失败" not in page
    with staff.app_context():
        sweep_all()
        swept = db.session.get(IntegrityState, 1)
        assert swept is not None and swept.swept_at is not None
        record_failure("OperationalError: database is locked")
    page = client.get("/admin/quality").get_data(as_text=True)
    assert "尚未扫描" not in page
    assert "扫描失败：OperationalError: database is locked" in page
    assert "最近一次成功：" in page and "从未成功" not in page
    with staff.app_context():
        sweep_all()  # a success clears the failure
    page = client.get("/admin/quality").get_data(as_text=True)
    assert "扫描失败" not in page and "所有答卷都已扫描" in page


def test_sweep_request_returns_at_once_and_wakes_the_background(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    auth.login()
    token = auth.token("/admin/quality")
    staff.config["INTEGRITY_SWEEP_SECONDS"] = 0  # no sweep thread in this process
    reply = client.post("/admin/quality/sweep", data={"csrf_token": token}, follow_redirects=True)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "survey integrity sweep" in page
    assert "请求扫描，等待后台执行" in page
    with staff.app_context():
        state = db.session.get(IntegrityState, 1)
        assert state is not None and state.requested_at is not None
        assert state.swept_at is None  # the request itself swept nothing
        assert db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "integrity_sweep_requested")
        ).scalar()

    staff.config.update(INTEGRITY_SWEEP_SECONDS=3600, INTEGRITY_SETTLE_SECONDS=0)
    running = background.start(staff)
    try:
        reply = client.post("/admin/quality/sweep", data={"csrf_token": token})
        assert reply.status_code == 302
        with client.session_transaction() as session:
            flashes = session.get("_flashes", [])
        assert any("已通知后台开始扫描" in m for _, m in flashes)
    finally:
        running.stop()
        for job in running.jobs.values():
            assert job.thread is not None
            job.thread.join(timeout=30)


def test_signals_are_not_shown_as_flags(
    client: FlaskClient, staff: Flask, auth: AuthActions
) -> None:
    point_id = _attack(staff, n=2)
    with staff.app_context():
        signal, shown = db.session.execute(
            db.select(Response).where(Response.point_id == point_id).order_by(Response.id)
        ).scalars()
        signal.flags = int(QualityFlag.SHARED_NETWORK)
        shown.flags = int(QualityFlag.OUT_OF_WINDOW)
        for r, code in ((signal, "SHARED_NETWORK"), (shown, "OUT_OF_WINDOW")):
            db.session.execute(db.delete(ResponseFlag).where(ResponseFlag.response_id == r.id))
            db.session.add(
                ResponseFlag(
                    response_id=r.id,
                    point_id=r.point_id,
                    code=code,
                    strength="weak",
                    evidence='{"devices": 20, "minutes": 10}',
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        db.session.commit()
        ids = (signal.id, shown.id)
    auth.login()
    listed = client.get("/admin/quality/flags").get_data(as_text=True)
    assert f"答卷 #{ids[1]}" in listed and f"答卷 #{ids[0]}" not in listed
    by_code = client.get("/admin/quality/flags?code=SHARED_NETWORK").get_data(as_text=True)
    assert f"答卷 #{ids[0]}" in by_code
    page = client.get("/admin/quality?days=90").get_data(as_text=True)
    assert "只有提示信号" in page


def test_status_command_says_the_sweep_failed(runner: FlaskCliRunner, staff: Flask) -> None:
    with staff.app_context():
        record_failure("OperationalError: no such table")
    status = runner.invoke(args=["integrity", "status"])
    assert "扫描失败" in status.output and "OperationalError: no such table" in status.output
    assert runner.invoke(args=["integrity", "sweep"]).exit_code == 0
    assert "扫描失败" not in runner.invoke(args=["integrity", "status"]).output
