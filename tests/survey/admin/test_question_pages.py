"""Staff pages of question statistics, cross-tabulation and free-text answers."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from survey import demo
from survey.extensions import db
from tests.survey.admin.conftest import AuthActions

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


@pytest.fixture
def answered_staff(staff: Flask) -> Flask:
    """The demo city with accounts, 400 generated responses and a few free-text answers."""
    with staff.app_context():
        demo.add_responses(400, seed=3, weeks=3, now=NOW)
        ids = db.session.execute(text("SELECT id FROM responses ORDER BY id LIMIT 3")).scalars()
        for i, rid in enumerate(ids):
            db.session.execute(
                text(
                    "INSERT INTO answers (response_id, question_key, value, text, number)"
                    " VALUES (:r, 'suggestions', NULL, :t, NULL)"
                ),
                {"r": rid, "t": ["多建公园", "=HYPERLINK(1)", "公交再多一些"][i]},
            )
        db.session.commit()
    return staff


def test_question_page_shows_every_choice_question(
    answered_staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    page = client.get("/admin/questions?weighting=poststratify")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "题目统计" in body
    assert "您知道我市正在创建全国文明城市吗？" in body
    assert "加权比例" in body and "事后分层加权" in body
    assert "多选题：各项比例合计" in body
    assert "看到本题" in body and "平均得分" in body
    assert body.count("<svg") >= 20
    assert "matplotlib" not in body  # the page's charts are the light SVG bars
    png = client.get("/admin/questions/chart-aware_campaign.png?weighting=poststratify")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    assert client.get("/admin/questions/chart-nonexistent.png").status_code == 404


def test_district_officer_sees_own_district_only(
    answered_staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    with answered_staff.app_context():
        own = db.session.execute(
            text(
                "SELECT count(*) FROM responses r JOIN regions d ON d.id = r.district_id"
                " WHERE d.code = '999901' AND r.flags = 0"
            )
        ).scalar_one()
    auth.login("linjiang")
    body = client.get("/admin/questions").get_data(as_text=True)
    assert f"{own} 份答卷计入统计" in body
    qingshan_id = None
    with answered_staff.app_context():
        qingshan_id = db.session.execute(
            text("SELECT id FROM regions WHERE code = '999902'")
        ).scalar_one()
    assert client.get(f"/admin/questions?region={qingshan_id}").status_code == 404


def test_crosstab_page_with_test_sentence(
    answered_staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    body = client.get("/admin/crosstab?question=aware_campaign&by=district").get_data(as_text=True)
    assert "Rao–Scott 校正卡方检验" in body
    assert "临江区" in body and "合计" in body
    multiple = client.get("/admin/crosstab?question=aware_report&by=age_group")
    assert multiple.status_code == 200
    assert "选择“" in multiple.get_data(as_text=True)
    by_question = client.get("/admin/crosstab?question=aware_campaign&by=question:volunteered")
    assert by_question.status_code == 200
    for by in ("street", "channel", "week", "sex"):
        other = client.get(f"/admin/crosstab?question=sat_overall&by={by}&weighting=rake")
        assert other.status_code == 200, by
        assert "差异" in other.get_data(as_text=True)
    assert client.get("/admin/crosstab?question=aware_campaign&by=nonsense").status_code == 400
    assert client.get("/admin/crosstab?question=suggestions&by=district").status_code == 400


def test_free_text_is_searchable_and_downloadable(
    answered_staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    body = client.get("/admin/questions/text?question=suggestions").get_data(as_text=True)
    assert "共 3 条" in body and "多建公园" in body
    found = client.get("/admin/questions/text?question=suggestions&q=公交").get_data(as_text=True)
    assert "共 1 条" in found and "公交再多一些" in found and "多建公园" not in found
    csv = client.get("/admin/questions/text.csv?question=suggestions")
    assert csv.status_code == 200
    data = csv.get_data()
    assert data.startswith("\ufeff".encode())
    assert "'=HYPERLINK(1)" in data.decode("utf-8")
