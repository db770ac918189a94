"""Region tree: import with validation (all or nothing), add and rename in the UI."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook

from survey.extensions import db
from survey.models import AuditLog
from survey.models import Region
from tests.survey.admin.conftest import AuthActions


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Region.id))).scalar_one()


def _upload(client: FlaskClient, auth: AuthActions, name: str, body: bytes):  # type: ignore[no-untyped-def]
    token = auth.token("/admin/regions/import")
    return client.post(
        "/admin/regions/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


GOOD_CSV = """编码,名称,级别,上级编码
999905,江南区,区县,999900
999905001,江南街道,街道,999905
999905001001,江南一社区,社区,999905001
999901001003,滨江新社区,社区,999901001
"""


def test_import_csv_creates_tree(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    before = _count(staff)
    response = _upload(client, auth, "regions.csv", GOOD_CSV.encode("utf-8-sig"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(staff) == before + 4
    with staff.app_context():
        leaf = db.session.execute(
            db.select(Region).where(Region.code == "999905001001")
        ).scalar_one()
        assert leaf.level == "community"
        assert leaf.parent is not None and leaf.parent.code == "999905001"
        assert leaf.path.count("/") == 5  # city/district/street/community
        assert db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "region_import")
        ).first()
    # Importing the same file again changes nothing.
    assert _upload(client, auth, "regions.csv", GOOD_CSV.encode("utf-8")).status_code == 302
    assert _count(staff) == before + 4


def test_import_xlsx_with_english_headers_and_gbk_csv(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "level", "parent_code"])
    sheet.append([999906, "北岸区", "district", 999900])
    sheet.append([999906001, "北岸街道", "street", 999906])
    out = io.BytesIO()
    book.save(out)
    before = _count(staff)
    assert _upload(client, auth, "r.xlsx", out.getvalue()).status_code == 302
    gbk = "编码,名称,级别,上级编码\n999906001001,北岸社区,村,999906001\n".encode("gb18030")
    assert _upload(client, auth, "r.csv", gbk).status_code == 302
    assert _count(staff) == before + 3


BROKEN_CSV = """code,name,level,parent
999907,西城区,district,999900
999907001,,street,999907
999907002,西城二街道,street,NOPE
999907,西城区重复,district,999900
A1,环甲,community,B1
B1,环乙,community,A1
999907003,西城三街道,planet,999907
999907004,跳级社区,community,999907
999901,临江区改名,district,999900
999907005,自己,street,999907005
"""


def test_broken_import_writes_nothing_and_reports_every_bad_row(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    before = _count(staff)
    response = _upload(client, auth, "broken.csv", BROKEN_CSV.encode("utf-8"))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert _count(staff) == before  # row 2 was fine but nothing was written
    expected = {
        3: "名称为空",
        4: "上级编码 NOPE 不存在",
        5: "重复",
        6: "循环",
        7: "循环",
        8: "级别",
        9: "级别顺序不对",
        10: "已存在",
        11: "循环",
    }
    for row, message in expected.items():
        assert f"第 {row} 行" in text, row
        line = next(ln for ln in text.splitlines() if f"第 {row} 行" in ln)
        assert message in line, (row, line)
    assert "<li>第 2 行" not in text
    assert "9 处错误" in text


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("r.csv", b"", "\u6587\u4ef6\u662f\u7a7a\u7684"),
        ("r.csv", "名称,级别\nx,市\n".encode(), "表头缺少列"),
        ("r.xlsx", b"not a zip", "无法读取"),
        ("r.pdf", b"x", "CSV"),
    ],
)
def test_unreadable_files_are_refused(
    staff: Flask, client: FlaskClient, auth: AuthActions, name: str, body: bytes, message: str
) -> None:
    auth.login()
    response = _upload(client, auth, name, body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_service_reports_rows_directly(staff: Flask) -> None:
    from survey.services.region_import import import_regions

    with staff.app_context():
        report = import_regions("x.csv", b"code,name,level,parent\n1,a,city,\n2,b,town,1\n")
        assert [e.row for e in report.errors] == [3]
        assert report.created == 0


def test_add_and_rename_region_in_ui(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("linjiang")
    with staff.app_context():
        street = db.session.execute(
            db.select(Region).where(Region.code == "999901001")
        ).scalar_one()
        street_id = street.id
        other = db.session.execute(db.select(Region).where(Region.code == "999902")).scalar_one()
        other_id = other.id
    token = auth.token("/admin/regions")
    response = client.post(
        "/admin/regions",
        data={
            "csrf_token": token,
            "parent_id": street_id,
            "code": "999901001009",
            "name": "新社区",
        },
    )
    assert response.status_code == 302
    with staff.app_context():
        new = db.session.execute(
            db.select(Region).where(Region.code == "999901001009")
        ).scalar_one()
        assert new.level == "community" and new.parent_id == street_id
        new_id = new.id
    # A parent outside the officer's district is not offered and not accepted.
    response = client.post(
        "/admin/regions",
        data={"csrf_token": token, "parent_id": other_id, "code": "999902009", "name": "x"},
    )
    assert response.status_code in {400, 404}
    response = client.post(
        f"/admin/regions/{new_id}/rename", data={"csrf_token": token, "name": "更新社区"}
    )
    assert response.status_code == 302
    assert "更新社区" in client.get("/admin/regions").get_data(as_text=True)
    # Only the city admin may import.
    assert _upload(client, auth, "r.csv", GOOD_CSV.encode()).status_code == 403
