"""The 模拟测评 staff pages: plan creation (all or nothing), the plan's figures, sheets, XLSX."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.survey.admin.conftest import AuthActions
from tests.survey.field.conftest import Fieldwork
from tests.survey.field.conftest import record


def _sync(client: FlaskClient, records: list) -> None:  # type: ignore[type-arg]
    token = client.get("/field/token").get_json()["csrf"]
    response = client.post("/field/sync", json={"records": records}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_plan_page_shows_rates_progress_and_quality(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("iv_linjiang")
    units = fieldwork.units["iv_linjiang"]
    _sync(
        client,
        [record(units[i % 2]) for i in range(6)]
        + [record(units[0], "refusal"), record(units[1], "non_contact")],
    )
    client.post("/admin/logout", data={"csrf_token": auth.token("/field/")})
    auth.login("city")
    page = client.get(f"/admin/mock/plans/{fieldwork.plan_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in (
        "三率（抽样样本）",
        "与同期扫码问卷比较",
        "RR1",
        "COOP1",
        "配额完成",
        "访问员效应",
    ):
        assert text in html
    # RR1 of the plan: 6 completes of 8 cases.
    assert "75.0%" in html
    assert "样本不足" in html  # 6 interviews: said in words
    sheets = client.get(f"/admin/mock/plans/{fieldwork.plan_id}/sheets")
    assert sheets.status_code == 200 and "iv_linjiang" in sheets.get_data(as_text=True)
    book = client.get(f"/admin/mock/plans/{fieldwork.plan_id}/plan.xlsx")
    assert book.status_code == 200
    wb = load_workbook(io.BytesIO(book.data))
    assert wb.sheetnames == ["说明", "抽中社区", "配额", "访问员分配"]
    assert wb["抽中社区"].max_row == 1 + 8  # 2 communities in each of 4 districts


def test_plan_creation_refuses_bad_input_and_writes_nothing(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("city")
    token = auth.token("/admin/mock")
    page = client.get("/admin/mock").get_data(as_text=True)
    assert "测试模拟测评" in page
    bad = client.post(
        "/admin/mock/plans",
        data={"csrf_token": token, "name": "x", "version": "1", "region": "1",
              "starts_on": "2026-12-01", "ends_on": "2026-12-07", "seed": "1",
              "sizes": "999901001001,100\n"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "缺少规模" in bad.get_data(as_text=True)
    assert client.get("/admin/mock").get_data(as_text=True).count("/admin/mock/plans/") == 1


def test_officer_creates_interviewers_only_in_their_region(
    fieldwork: Fieldwork, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("linjiang")
    token = auth.token("/admin/mock")
    html = client.get("/admin/mock").get_data(as_text=True)
    assert "iv_linjiang" in html and "iv_qingshan" not in html
    from survey.extensions import db
    from survey.models import Region

    with client.application.app_context():
        other = db.session.execute(db.select(Region.id).where(Region.code == "999902")).scalar_one()
        mine = db.session.execute(db.select(Region.id).where(Region.code == "999901")).scalar_one()
    form = {"csrf_token": token, "username": "iv_new", "password": "correct horse battery"}
    assert (
        client.post("/admin/mock/interviewers", data={**form, "region": other}).status_code == 404
    )
    assert client.post("/admin/mock/interviewers", data={**form, "region": mine}).status_code == 303


def test_bootstrap_makes_one_completed_mock_assessment(app: Flask) -> None:
    from survey.extensions import db
    from survey.models import ContactAttempt
    from survey.models import Response
    from survey.models import SamplePlan
    from survey.models import User

    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["bootstrap", "--demo-responses", "200"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(SamplePlan.id))).scalar_one() == 1
        names = set(
            db.session.execute(db.select(User.username).where(User.role == "interviewer")).scalars()
        )
        assert names == {"iv01", "iv02", "iv03", "iv04", "iv05"}
        kinds = dict(
            db.session.execute(
                db.select(ContactAttempt.disposition, db.func.count()).group_by(
                    ContactAttempt.disposition
                )
            ).all()
        )
        assert kinds["complete"] == 8 * 15
        assert kinds["refusal"] > 0 and kinds["non_contact"] > 0
        field = db.session.execute(
            db.select(db.func.count()).where(Response.source == "door_to_door")
        ).scalar_one()
        assert field == 8 * 15
        plan = db.session.execute(db.select(SamplePlan)).scalar_one()
        plan_id = plan.id
    client = app.test_client()
    from tests.survey.admin.conftest import csrf_token

    password = (Path(app.instance_path) / "demo_admin_password").read_text().strip()
    client.post(
        "/admin/login",
        data={"username": "admin", "password": password, "csrf_token": csrf_token(client)},
    )
    page = client.get(f"/admin/mock/plans/{plan_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "样本不足" not in html.split("与同期扫码问卷比较")[0]  # 120 interviews: estimated
    assert "访问员丁" in html
