"""Issue 13, items 1, 3 and 4: values from data that name files, break images or run in Excel.

Region codes have a strict character set on every path in (form, import, command line,
service); names and labels refuse control characters on every path in; whatever was
stored before these rules still renders (PNG, SVG, ZIP, XLSX, print sheet) and makes safe
file names; staff can edit a point's label; every CSV goes through the one writer.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from pyzbar.pyzbar import decode

from survey.extensions import db
from survey.models import AuditLog
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import User
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in

BAD_CODES = ["../x", "/etc/passwd", "..", "a/b", "a\\b", "a b", "区划", "ab\n", "x" * 21, ""]
CONTROL_NAMES = ["a\nb", "a\rb", "tab\there", "nul\x00", "bell\x07", "rtl\u202eevil", "ls\u2028x"]


def _region(app: Flask, code: str) -> Region:
    region = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one()
    return region


def _upload(client: FlaskClient, auth: AuthActions, name: str, body: bytes):  # type: ignore[no-untyped-def]
    token = auth.token("/admin/regions/import")
    return client.post(
        "/admin/regions/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _count_regions(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Region.id))).scalar_one()


# --- item 1: region codes on every path in ----------------------------------------------


def test_import_refuses_unsafe_codes_and_parent_codes(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    rows = [
        ("../x", "坏一", "区县", "999900"),
        ("/abs", "坏二", "区县", "999900"),
        ("a b", "坏三", "区县", "999900"),
        ("999908001", "坏四", "街道", "../999908"),
        ("999909", "好区", "区县", "999900"),
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["编码", "名称", "级别", "上级编码"])
    writer.writerows(rows)
    before = _count_regions(staff)
    response = _upload(client, auth, "r.csv", out.getvalue().encode())
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for row in (2, 3, 4):
        line = next(ln for ln in text.splitlines() if f"第 {row} 行" in ln)
        assert "编码" in line and "无效" in line, line
    line = next(ln for ln in text.splitlines() if "第 5 行" in ln)
    assert "上级编码" in line and "无效" in line
    assert _count_regions(staff) == before  # all or nothing


@pytest.mark.parametrize("code", BAD_CODES)
def test_region_form_refuses_unsafe_codes(
    staff: Flask, client: FlaskClient, auth: AuthActions, code: str
) -> None:
    auth.login()
    with staff.app_context():
        parent_id = _region(staff, "999901").id
    token = auth.token("/admin/regions")
    before = _count_regions(staff)
    response = client.post(
        "/admin/regions",
        data={"csrf_token": token, "parent_id": parent_id, "code": code, "name": "新街道"},
    )
    assert response.status_code == 400
    assert _count_regions(staff) == before


def test_services_refuse_unsafe_codes(staff: Flask) -> None:
    from survey.errors import InvalidInput
    from survey.services.regions import add_child_region
    from survey.services.regions import create_region

    with staff.app_context():
        district = _region(staff, "999901")
        user = db.session.execute(db.select(User).where(User.username == "city")).scalar_one()
        for code in BAD_CODES:
            with pytest.raises(InvalidInput):
                create_region(code, "x", "street", district)
            with pytest.raises(InvalidInput):
                add_child_region(user, district, code, "x")
        db.session.rollback()


@pytest.mark.parametrize(
    "args",
    [
        ["qr", "export", "--questionnaire", "civilized-city", "--region", "../x"],
        ["user", "create", "wang", "--password", "long enough pw", "--region", "/etc"],
    ],
)
def test_command_line_refuses_unsafe_codes(seeded: Flask, tmp_path: Path, args: list[str]) -> None:
    if args[0] == "qr":
        args = [*args, "--out", str(tmp_path / "out")]
    result = seeded.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "编码只能包含" in result.output
    assert not (tmp_path / "out").exists()


def _store_legacy(app: Flask, code: str, name: str, label: str) -> int:
    """A region and point stored before the rules existed (straight into the database)."""
    with app.app_context():
        point_id = point_ids_in(app, "999901")[0]
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None
        point.region.code = code
        point.region.name = name
        point.label = label
        db.session.commit()
        return point_id


def test_legacy_unsafe_codes_make_safe_file_names(
    staff: Flask, client: FlaskClient, auth: AuthActions, tmp_path: Path
) -> None:
    point_id = _store_legacy(staff, "../../x", "临江区", '=HYPERLINK("http://evil","x")')
    out = tmp_path / "deep" / "out"
    before = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    result = staff.test_cli_runner().invoke(
        args=["qr", "export", "--questionnaire", "civilized-city", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()} - before
    assert written and all(p.parent == out.resolve() for p in written)
    assert any(p.name.startswith("x_") for p in written)

    auth.login()
    response = client.get(f"/admin/points/qr.zip?ids={point_id}")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()
    for name in names:
        assert re.fullmatch(r"[0-9A-Za-z_.-]+", name), name
        assert ".." not in name and not name.startswith("/")


# --- item 3: control characters in names and labels ---------------------------------------


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_rename_and_add_refuse_control_characters(
    staff: Flask, client: FlaskClient, auth: AuthActions, name: str
) -> None:
    auth.login()
    with staff.app_context():
        region_id = _region(staff, "999901").id
    token = auth.token("/admin/regions")
    response = client.post(
        f"/admin/regions/{region_id}/rename", data={"csrf_token": token, "name": name}
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/regions",
        data={"csrf_token": token, "parent_id": region_id, "code": "999901077", "name": name},
    )
    assert response.status_code == 400
    with staff.app_context():
        assert _region(staff, "999901").name == "临江区"
        assert (
            db.session.execute(db.select(Region).where(Region.code == "999901077")).first() is None
        )


def test_services_and_import_refuse_control_characters(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from survey.errors import InvalidInput
    from survey.services.regions import create_region
    from survey.services.regions import rename_region
    from survey.services.users import create_user

    with staff.app_context():
        district = _region(staff, "999901")
        for name in CONTROL_NAMES:
            with pytest.raises(InvalidInput):
                create_region("999901088", name, "street", district)
            with pytest.raises(InvalidInput):
                rename_region(None, district, name)  # type: ignore[arg-type]
            with pytest.raises(InvalidInput):
                create_user("newbie", "long enough pw", "viewer", None, display_name=name)
        db.session.rollback()
    auth.login()
    body = "编码,名称,级别,上级编码\n999909,北\t岸区,区县,999900\n".encode()
    response = _upload(client, auth, "r.csv", body)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)


def test_point_forms_and_command_line_refuse_control_characters(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from survey.models import Channel
    from survey.models import QuestionnaireVersion

    with staff.app_context():
        street_id = _region(staff, "999901001").id
        channel_id = db.session.execute(
            db.select(Channel.id).where(Channel.code == "school")
        ).scalar_one()
        version_id = db.session.execute(db.select(QuestionnaireVersion.id)).scalar_one()
        before = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
    auth.login()
    token = auth.token("/admin/points/new")
    common = {"csrf_token": token, "version_id": version_id, "channel_id": channel_id}
    response = client.post(
        "/admin/points/new", data={**common, "region_id": street_id, "label": "家长会\n二楼"}
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/points/batch",
        data={
            **common,
            "region_id": street_id,
            "level": "community",
            "label_pattern": "{region}\t",
        },
    )
    assert response.status_code == 400
    with staff.app_context():
        after = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
    assert after == before
    result = staff.test_cli_runner().invoke(
        args=["user", "create", "li", "--name", "李\n四", "--password", "long enough pw"]
    )
    assert result.exit_code == 2 and "控制字符" in result.output


def test_stored_control_characters_still_render(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    # (No NUL: PostgreSQL cannot store it, so no stored value can hold one.)
    point_id = _store_legacy(staff, "999901", "a\nb", "x\x01y\x1b[31m\u2028z")
    with staff.app_context():
        code = db.session.get(CollectionPoint, point_id).code  # type: ignore[union-attr]
    auth.login()
    png = client.get(f"/admin/points/{point_id}/qr.png")
    assert png.status_code == 200
    decoded = [d.data.decode() for d in decode(Image.open(io.BytesIO(png.get_data())))]
    assert decoded == [f"http://survey.test/q/{code}"]
    svg = client.get(f"/admin/points/{point_id}/qr.svg")
    assert svg.status_code == 200
    root = ElementTree.fromstring(svg.get_data())  # well-formed XML 1.0
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("a b" in t for t in texts)
    ids = ",".join(map(str, point_ids_in(staff, "999901")))
    archive = client.get(f"/admin/points/qr.zip?ids={ids}")
    assert archive.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(archive.get_data())).testzip() is None
    assert client.get(f"/admin/points/print?ids={ids}").status_code == 200
    xlsx = client.get("/admin/points/export.xlsx")
    assert xlsx.status_code == 200
    load_workbook(io.BytesIO(xlsx.get_data()))
    assert client.get("/admin/points/export.csv").status_code == 200


def test_staff_edit_a_point_label(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    point_id = _store_legacy(staff, "999901", "临江区", "旧\n名称")
    auth.login("linjiang")
    token = auth.token(f"/admin/points/{point_id}")
    url = f"/admin/points/{point_id}/label"
    assert client.post(url, data={"csrf_token": token, "label": "新\n名称"}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "label": ""}).status_code == 400
    response = client.post(url, data={"csrf_token": token, "label": " 滨江公园东门 "})
    assert response.status_code == 302
    with staff.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None and point.label == "滨江公园东门"
        entry = db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "point_relabel")
        ).scalar_one()
        assert "旧\\n名称" in entry.detail and "滨江公园东门" in entry.detail
    assert "滨江公园东门" in client.get(f"/admin/points/{point_id}").get_data(as_text=True)
    # Outside the officer's district: 404; a viewer may not change anything: 403.
    other = point_ids_in(staff, "999902")[0]
    assert (
        client.post(
            f"/admin/points/{other}/label", data={"csrf_token": token, "label": "x"}
        ).status_code
        == 404
    )
    auth.logout()
    auth.login("viewer")
    token = auth.token(f"/admin/points/{point_id}")
    assert client.post(url, data={"csrf_token": token, "label": "x"}).status_code == 403


# --- item 4: one CSV writer, formulas escaped everywhere ----------------------------------

FORMULAS = ['=HYPERLINK("http://evil","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


def test_index_csv_in_zip_and_command_line_escapes_formulas(
    staff: Flask, client: FlaskClient, auth: AuthActions, tmp_path: Path
) -> None:
    ids = point_ids_in(staff, "999901")[: len(FORMULAS)]
    with staff.app_context():
        for point_id, formula in zip(ids, FORMULAS, strict=True):
            point = db.session.get(CollectionPoint, point_id)
            assert point is not None
            point.label = formula
        db.session.commit()
    auth.login()
    response = client.get("/admin/points/qr.zip?ids=" + ",".join(map(str, ids)))
    index = zipfile.ZipFile(io.BytesIO(response.get_data())).read("index.csv")
    result = staff.test_cli_runner().invoke(
        args=["qr", "export", "--questionnaire", "civilized-city", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    exported = client.get("/admin/points/export.csv?ids=" + ",".join(map(str, ids)))
    for body in (index, (tmp_path / "index.csv").read_bytes(), exported.get_data()):
        assert body.startswith(b"\xef\xbb\xbf")
        cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
        for formula in FORMULAS:
            assert formula not in cells
            assert "'" + formula in cells


def test_one_csv_writer_for_the_whole_app() -> None:
    root = Path(__file__).resolve().parents[3] / "survey"
    writers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["services/csv_files.py"]
