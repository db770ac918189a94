"""Issuing points one by one and in batches, revoking, statistics, exports, audit."""

from __future__ import annotations

import datetime as dt
import io

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from survey.extensions import db
from survey.models import AuditLog
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import PointScanDaily
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from tests.survey.admin.conftest import AuthActions


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        street = db.session.execute(
            db.select(Region).where(Region.code == "999901001")
        ).scalar_one()
        channel = db.session.execute(
            db.select(Channel).where(Channel.code == "school")
        ).scalar_one()
        version = db.session.execute(db.select(QuestionnaireVersion)).scalar_one()
        return {"street": street.id, "channel": channel.id, "version": version.id}


def _audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(AuditLog.action)).scalars())


def test_issue_one_point_revoke_and_reactivate(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("linjiang")
    ids = _ids(staff)
    token = auth.token("/admin/points/new")
    response = client.post(
        "/admin/points/new",
        data={
            "csrf_token": token,
            "version_id": ids["version"],
            "region_id": ids["street"],
            "channel_id": ids["channel"],
            "label": "滨江小学家长会",
            "expires_at": "2099-01-01T08:00",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    point_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with staff.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None and point.label == "滨江小学家长会"
        assert point.expires_at is not None
        assert point.expires_at.replace(tzinfo=dt.UTC).hour == 0  # 08:00 China time
    page = client.get(f"/admin/points/{point_id}").get_data(as_text=True)
    assert "http://survey.test/q/" in page
    assert (
        client.post(f"/admin/points/{point_id}/revoke", data={"csrf_token": token}).status_code
        == 302
    )
    with staff.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None and not point.active and point.revoked_at is not None
    assert (
        client.post(f"/admin/points/{point_id}/reactivate", data={"csrf_token": token}).status_code
        == 302
    )
    with staff.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None and point.active and point.revoked_at is None
    actions = _audit_actions(staff)
    for action in ("point_issue", "point_revoke", "point_reactivate"):
        assert action in actions


def test_past_expiry_is_refused(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    ids = _ids(staff)
    response = client.post(
        "/admin/points/new",
        data={
            "csrf_token": auth.token("/admin/points/new"),
            "version_id": ids["version"],
            "region_id": ids["street"],
            "channel_id": ids["channel"],
            "expires_at": "2001-01-01T08:00",
        },
    )
    assert response.status_code == 400
    assert "到期时间必须在将来" in response.get_data(as_text=True)


def test_batch_issues_one_point_per_community(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    ids = _ids(staff)
    data = {
        "csrf_token": auth.token("/admin/points/batch"),
        "version_id": ids["version"],
        "region_id": ids["street"],
        "level": "community",
        "channel_id": ids["channel"],
        "label_pattern": "{region}{channel}",
        "skip_existing": "y",
    }
    response = client.post("/admin/points/batch", data=data)
    assert response.status_code == 302
    assert "ids=" in response.headers["Location"]
    with staff.app_context():
        rows = db.session.execute(
            db.select(CollectionPoint).where(CollectionPoint.channel_id == ids["channel"])
        ).scalars()
        batch = [p for p in rows if p.region.parent_id == ids["street"]]
        assert len(batch) == 2  # the demo street has two communities
        assert {p.label for p in batch} == {f"{p.region.name}学校" for p in batch}
        assert len({p.code for p in batch}) == 2
    # A second run skips the communities that already have a school point.
    response = client.post("/admin/points/batch", data=data)
    assert response.status_code == 302
    assert "ids=" not in response.headers["Location"]
    assert "point_batch" in _audit_actions(staff)


def _add_activity(app: Flask) -> tuple[int, int]:
    """Scans and responses on two points; return their ids."""
    with app.app_context():
        points = (
            db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id).limit(2))
            .scalars()
            .all()
        )
        a, b = points
        db.session.add_all(
            [
                PointScanDaily(point_id=a.id, day=dt.date(2026, 5, 1), scans=30),
                PointScanDaily(point_id=a.id, day=dt.date(2026, 5, 2), scans=10),
                PointScanDaily(point_id=b.id, day=dt.date(2026, 5, 2), scans=4),
            ]
        )
        for i, point in enumerate([a] * 10 + [b] * 3):
            moment = dt.datetime(2026, 5, 2, 3, i, tzinfo=dt.UTC)
            db.session.add(
                Response(
                    questionnaire_id=point.questionnaire_version.questionnaire_id,
                    questionnaire_version_id=point.questionnaire_version_id,
                    point_id=point.id,
                    region_id=point.region_id,
                    channel_id=point.channel_id,
                    submitted_at=moment,
                    week_start=dt.date(2026, 4, 27),
                    device_hash=f"d{i}",
                )
            )
        db.session.commit()
        return a.id, b.id


def test_stats_list_sort_and_api(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    a, b = _add_activity(staff)
    auth.login()
    rows = {p["id"]: p for p in client.get("/api/points").get_json()["points"]}
    assert rows[a]["scans"] == 40 and rows[a]["responses"] == 10
    assert rows[a]["completion_rate"] == 0.25
    assert rows[b]["completion_rate"] == 0.75
    assert rows[a]["last_response_at"].startswith("2026-05-02T03:09")
    others = [r for r in rows.values() if r["id"] not in {a, b}]
    assert all(r["scans"] == 0 and r["completion_rate"] is None for r in others)
    by_rate = client.get("/api/points?sort=rate&desc=1").get_json()["points"]
    assert [p["id"] for p in by_rate[:2]] == [b, a]
    assert by_rate[-1]["completion_rate"] is None  # empty values last
    page = client.get("/admin/points?sort=scans&desc=1").get_data(as_text=True)
    assert "25.0%" in page and "75.0%" in page
    assert client.get("/admin/points?region=abc").status_code == 400


def test_filter_by_region_and_channel(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    with staff.app_context():
        district = db.session.execute(db.select(Region).where(Region.code == "999903")).scalar_one()
        board = db.session.execute(
            db.select(Channel).where(Channel.code == "notice_board")
        ).scalar_one()
        region_id, channel_id = district.id, board.id
    points = client.get(f"/api/points?region={region_id}&channel={channel_id}").get_json()["points"]
    assert len(points) == 6  # six communities in 新城区, one notice board each
    assert all(p["channel"]["code"] == "notice_board" for p in points)
    assert all(p["region"]["code"].startswith("999903") for p in points)


def test_csv_and_xlsx_exports(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    _add_activity(staff)
    auth.login()
    response = client.get("/admin/points/export.csv")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 correctly
    text = body.decode("utf-8-sig")
    header = text.split("\r\n", 1)[0]
    assert header.startswith("点位编码,名称,区域编码,区域,渠道")
    assert text.count("\r\n") == 96 + 1
    response = client.get("/admin/points/export.xlsx?sort=scans&desc=1")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("点位编码", "名称", "区域编码")
    assert len(values) == 97
    assert values[1][7] == 40 and values[1][9] == 0.25
    assert _audit_actions(staff).count("export_points") == 2
    assert client.get("/admin/points/export.pdf").status_code == 404
