"""The 纸质问卷 staff pages: template download, uploads (larger than the usual body limit),
every bad cell on the page, double entry through the forms, scope and read-only accounts."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey.extensions import db
from survey.models import Response
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import create_staff_accounts
from tests.survey.paper.conftest import Paper
from tests.survey.paper.filling import csv_file


@pytest.fixture
def signed(paper: Paper) -> tuple[Paper, FlaskClient, AuthActions]:
    with paper.app.app_context():
        create_staff_accounts()
        db.session.commit()
    client = paper.app.test_client()
    auth = AuthActions(client)
    return paper, client, auth


def _count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(select(func.count(Response.id))).scalar_one())


def _upload(client: FlaskClient, auth: AuthActions, url: str, **files: bytes):  # type: ignore[no-untyped-def]
    token = auth.token("/admin/paper")
    data: dict[str, object] = {"csrf_token": token}
    for name, body in files.items():
        data[name] = FileStorage(io.BytesIO(body), filename=f"{name}.csv", name=name)
    # Encoded in memory: the test client spools a body over 500 KB to a temporary file it
    # never closes (a ResourceWarning in a later test).
    boundary, body = encode_multipart(data)  # type: ignore[arg-type]
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_template_download_has_dropdowns_and_the_skip_logic(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    auth.login("city")
    page = client.get("/admin/paper")
    assert page.status_code == 200 and "下载录入模板" in page.get_data(as_text=True)
    version = re.search(r'<option value="(\d+)"', page.get_data(as_text=True))
    assert version
    got = client.get(f"/admin/paper/template?version={version.group(1)}")
    assert got.status_code == 200 and got.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(got.data))
    assert book.sheetnames[:2] == ["录入", "填写说明"]
    entry = book["录入"]
    assert [c.value for c in entry[1]] == [c.heading for c in paper.target.columns]
    lists = {str(v.sqref).split(":")[0]: v for v in entry.data_validations.dataValidation}
    sex = lists["E2"]  # Q2 您的性别是？, a single choice: its labels on the hidden sheet
    _sheet, cells = sex.formula1.split("!")
    col = cells.split(":")[0].strip("$").rstrip("0123456789").strip("$")
    labels = [c.value for c in book["选项"][col][1:] if c.value]
    assert labels == ["男", "女"]
    assert lists["K2"].formula1 == '"1,0"'  # Q8's first option column
    guide = [r for r in book["填写说明"].iter_rows(values_only=True)]
    assert any(r[5] == "Q12 只在 Q11 选择“参加过”（1=yes）时填写，否则留空" for r in guide)
    assert any(r[6] and "1 = male：男；2 = female：女" in r[6] for r in guide)


def test_an_upload_larger_than_the_body_limit_is_imported(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    body = csv_file(paper.target.defn, [paper.row(f"W{i:04d}") for i in range(300)])
    assert len(body) > paper.app.config["MAX_CONTENT_LENGTH"]
    auth.login("city")
    posted = _upload(client, auth, "/admin/paper/import", file=body)
    assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
    assert _count(paper.app) == 300
    # A file of several hundred kilobytes, through the multipart decoder's buffer too.
    rows = [paper.row(f"V{i:04d}") for i in range(3000)]
    rows[2999][paper.column("sex")] = "？"
    body = csv_file(paper.target.defn, rows)
    assert len(body) > 800_000
    refused = _upload(client, auth, "/admin/paper/import", file=body)
    assert refused.status_code == 400
    assert "文件中有 1 处错误" in refused.get_data(as_text=True)
    assert _count(paper.app) == 300
    # Elsewhere the limit holds.
    token = auth.token("/admin/regions")
    big = client.post("/admin/regions", data={"csrf_token": token, "name": "x" * 70_000})
    assert big.status_code == 413


def test_a_bad_cell_is_named_on_the_page_and_nothing_is_stored(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    rows = [paper.row(f"W{i}") for i in range(5)]
    rows[3][paper.column("aware_goal")] = "不知道啊"
    auth.login("city")
    posted = _upload(client, auth, "/admin/paper/import", file=csv_file(paper.target.defn, rows))
    html = posted.get_data(as_text=True)
    assert posted.status_code == 400
    assert "文件中有 1 处错误，未导入任何问卷" in html
    assert "<td>5</td><td>H</td><td>Q5</td><td>不知道啊</td>" in html
    assert _count(paper.app) == 0


def test_a_file_that_is_no_template_is_refused_with_what_to_do(signed) -> None:  # type: ignore[no-untyped-def]
    _paper, client, auth = signed
    auth.login("city")
    posted = _upload(client, auth, "/admin/paper/import", file="编号,答案\n1,2\n".encode())
    assert posted.status_code == 400
    assert "请在管理后台“纸质问卷”页面或用 survey paper template 下载模板" in posted.get_data(
        as_text=True
    )


def test_an_upload_without_the_csrf_token_is_refused(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    auth.login("city")
    body = csv_file(paper.target.defn, [paper.row("X")])
    posted = client.post(
        "/admin/paper/import",
        data={"file": (io.BytesIO(body), "x.csv")},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 400 and _count(paper.app) == 0


def test_a_viewer_cannot_import(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    auth.login("viewer")
    body = csv_file(paper.target.defn, [paper.row("X")])
    posted = _upload(client, auth, "/admin/paper/import", file=body)
    assert posted.status_code == 403 and _count(paper.app) == 0


def test_double_entry_through_the_pages(signed) -> None:  # type: ignore[no-untyped-def]
    paper, client, auth = signed
    a = [paper.row(f"D{i}") for i in range(4)]
    b = [list(r) for r in a]
    b[1][paper.column("sat_traffic")] = "满意"
    auth.login("linjiang")
    posted = _upload(
        client,
        auth,
        "/admin/paper/double",
        file_a=csv_file(paper.target.defn, a),
        file_b=csv_file(paper.target.defn, b),
    )
    assert posted.status_code == 302
    page = client.get(posted.headers["Location"])
    html = page.get_data(as_text=True)
    assert (
        "<td>D1</td><td>Q19 您对交通秩序（车辆行人守规、停车秩序）是否满意？</td>"
        "<td>比较满意</td><td>满意</td>"
    ) in html
    assert "一致率" in html and _count(paper.app) == 0
    mismatch = re.search(r'name="d(\d+)" value="a"', html)
    assert mismatch
    url = posted.headers["Location"]
    token = auth.token(url)
    refused = client.post(f"{url}/store", data={"csrf_token": token})
    assert refused.status_code == 409 and _count(paper.app) == 0
    settled = client.post(f"{url}/settle", data={"csrf_token": token, f"d{mismatch.group(1)}": "a"})
    assert settled.status_code == 302
    stored = client.post(f"{url}/store", data={"csrf_token": token})
    assert stored.status_code == 302 and _count(paper.app) == 4
    # Another district's officer does not see the batch.
    auth.logout()
    auth.login("qingshan")
    assert client.get(url).status_code == 404
