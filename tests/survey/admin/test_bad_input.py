"""Issue 13, item 5: malformed staff input is a 400/404 with the usual page, never a 500.

A fixed walk over the cases found (non-ASCII digits, integers beyond 64 bits in query
strings and paths, malformed XLSX files, a malformed chunked body), then Hypothesis over the
query parameters and path ids of every staff and API route the app has (read from its URL
map, so routes added later are fuzzed too).
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in

HUGE = str(2**64)
BAD_QUERIES = [
    "/admin/points?region=²",
    "/admin/points?region=١",
    f"/admin/points?region={HUGE}",
    "/admin/points?channel=²",
    f"/admin/points?version={HUGE}",
    "/admin/points?ids=1,²",
    f"/admin/points?ids=1,{HUGE}",
    "/admin/points?ids=1,,2",
    "/admin/points/export.csv?region=²",
    f"/admin/points/export.xlsx?ids={HUGE}",
    "/admin/points/qr.zip?ids=²",
    f"/admin/points/print?region={HUGE}",
    "/admin/points/new?region=²",
    f"/admin/points/new?region={HUGE}",
    "/admin/audit?page=²",
    "/admin/audit?page=-1",
    f"/admin/audit?page={HUGE}",
    f"/admin/audit?page={10**7}",
    "/api/points?region=²",
    f"/api/points?ids={HUGE}",
]
BAD_PATHS = [
    f"/admin/points/{HUGE}",
    f"/admin/points/{'9' * 40}",
    "/admin/points/²",
    "/admin/points/١",
    f"/admin/points/{HUGE}/qr.png",
    f"/admin/points/{HUGE}/qr.svg",
    f"/admin/points/{HUGE}/responses",
    f"/admin/users/{HUGE}",
    "/admin/users/٣",
    f"/api/points/{HUGE}",
    "/api/points/-1",
    f"/admin/points/{2**63}",
]


@pytest.mark.parametrize("url", BAD_QUERIES)
def test_malformed_query_arguments_are_400(
    staff: Flask, client: FlaskClient, auth: AuthActions, url: str
) -> None:
    auth.login()
    response = client.get(url)
    assert response.status_code == 400, response.status_code
    _usual_page(response, url)


@pytest.mark.parametrize("url", BAD_PATHS)
def test_malformed_path_ids_are_404(
    staff: Flask, client: FlaskClient, auth: AuthActions, url: str
) -> None:
    auth.login()
    response = client.get(url)
    assert response.status_code == 404
    _usual_page(response, url)
    token = auth.token()
    posted = client.post(url.rsplit("/", 1)[0] + "/revoke", data={"csrf_token": token})
    assert posted.status_code in {404, 405}


@pytest.mark.parametrize("value", [2**31 - 1, 2**31, 2**32 + 1, 2**63 - 1])
def test_ids_beyond_the_id_columns_are_a_plain_404(
    staff: Flask, client: FlaskClient, auth: AuthActions, value: int
) -> None:
    """Id columns are INTEGER (32 bits on PostgreSQL): larger ids name nothing (404)."""
    auth.login()
    for url in (
        f"/admin/points/{value}",
        f"/admin/points/{value}/qr.png",
        f"/admin/users/{value}",
        f"/api/points/{value}",
        f"/admin/points?region={value}",
        f"/api/points?channel={value}",
    ):
        assert client.get(url).status_code == 404, url
    # A list of ids shows those that exist, a form preselects nothing; an id no column
    # can hold is a 404.
    for url in (f"/admin/points?ids=1,{value}", f"/admin/points/new?region={value}"):
        assert client.get(url).status_code == (200 if value < 2**31 else 404), url
    assert client.get(f"/admin/audit?page={10**6}").status_code == 200


def test_control_characters_in_staff_text_are_refused_on_every_database(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """PostgreSQL refuses NUL in text: a NUL typed by staff never reaches it."""
    token = auth.token("/admin/login")
    response = client.post(
        "/admin/login",
        data={"username": "ci\x00ty", "password": "x\x00y", "csrf_token": token, "next": ""},
    )
    assert response.status_code == 400
    auth.login()
    assert client.get("/admin/audit?action=login\x00").status_code == 400
    assert client.get("/admin/audit?action=login").status_code == 200


def _usual_page(response, url: str) -> None:  # type: ignore[no-untyped-def]
    if url.startswith("/api/"):
        assert response.is_json and response.get_json()["status"] == response.status_code
    else:
        text = response.get_data(as_text=True)
        assert "请求有误" in text or "页面不存在" in text


# --- malformed XLSX ---------------------------------------------------------------------


def _xlsx(replace: dict[str, bytes] | None = None) -> bytes:
    """A good region workbook, with parts replaced or added."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编码", "名称", "级别", "上级编码"])
    sheet.append(["999909", "北岸区", "区县", "999900"])
    out = io.BytesIO()
    book.save(out)
    if not replace:
        return out.getvalue()
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.pop(info.filename, source.read(info.filename)))
        for name, extra in replace.items():
            target.writestr(name, extra)
    return patched.getvalue()


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
SHEET = "xl/worksheets/sheet1.xml"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_xlsx({SHEET: b"<worksheet><sheetData><row><c>broken"}), "无法读取"),
        (_xlsx({SHEET: ENTITY_BOMB}), "无法读取"),
        (_xlsx({"xl/workbook.xml": b"not xml at all"}), "无法读取"),
        (_xlsx({"[Content_Types].xml": b"<Types/>"}), "无法读取"),
        (_xlsx({SHEET: b"<" * 10}), "无法读取"),
        (_xlsx()[:300], "无法读取"),
        (_xlsx({"xl/huge.bin": b"\0" * (40 * 1024 * 1024)}), "过大"),
    ],
    ids=["broken-sheet-xml", "entity-bomb", "broken-workbook", "no-parts", "junk", "cut", "bomb"],
)
def test_malformed_xlsx_is_400(
    staff: Flask, client: FlaskClient, auth: AuthActions, body: bytes, message: str
) -> None:
    assert len(body) < staff.config["MAX_CONTENT_LENGTH"]  # even the ZIP bomb
    auth.login()
    token = auth.token("/admin/regions/import")
    response = client.post(
        "/admin/regions/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), "regions.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_good_xlsx_still_imports(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    token = auth.token("/admin/regions/import")
    response = client.post(
        "/admin/regions/import",
        data={"csrf_token": token, "file": (io.BytesIO(_xlsx()), "regions.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


# --- malformed request bodies -----------------------------------------------------------


class BrokenChunks(io.RawIOBase):
    """A ``wsgi.input`` that fails as gunicorn's does on a malformed chunked body."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        from gunicorn.http.errors import InvalidChunkSize

        raise InvalidChunkSize(b"zz")

    def read(self, size: int = -1) -> bytes:
        from gunicorn.http.errors import InvalidChunkSize

        raise InvalidChunkSize(b"zz")


@pytest.mark.parametrize("path", ["/admin/login", "/admin/regions/import", "/q/{code}"])
def test_malformed_chunked_body_is_400(staff: Flask, path: str) -> None:
    from survey.extensions import db
    from survey.models import CollectionPoint

    with staff.app_context():
        code = db.session.execute(db.select(CollectionPoint.code)).scalars().first()
    client = staff.test_client()
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = client.post(
            path.format(code=code),
            headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
            environ_overrides={"wsgi.input": BrokenChunks(), "wsgi.input_terminated": True},
        )
        assert response.status_code == 400, (path, content_type)
        assert "请求有误" in response.get_data(as_text=True) or "提交" in response.get_data(
            as_text=True
        )


# --- Hypothesis over every staff route ----------------------------------------------------

PARAMS = ["region", "channel", "version", "status", "ids", "page", "action", "sort", "desc"]
PARAMS += ["next", "format", "level", "q", "from", "to", "period", "metric", "group"]
ODD = ["²", "١٢", "0", "-1", "9" * 25, HUGE, "1,²", "1,,2", " 1 ", "\x00", "%", "1e3", "0x10"]
VALUES = st.one_of(
    st.sampled_from(ODD),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.lists(st.integers(min_value=-5, max_value=2**66), max_size=4).map(
        lambda xs: ",".join(map(str, xs))
    ),
    st.text(max_size=12),
)
SEGMENTS = st.one_of(
    st.integers(min_value=0, max_value=2**70).map(str),
    st.sampled_from(["²", "١", "-1", "0", "1", "2", "99", "x", "%20", "1.5"]),
)
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def staff_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every staff and API route, GET where it has one, else POST."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/admin", "/api")) or rule.endpoint == "admin.logout":
            continue
        methods = rule.methods or set()
        routes.append(("GET" if "GET" in methods else "POST", rule.rule))
    return sorted(set(routes))


@pytest.fixture
def signed_in(staff: Flask, client: FlaskClient, auth: AuthActions) -> FlaskClient:
    auth.login()
    return client


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_fuzz_staff_query_parameters_and_path_ids(
    staff: Flask, signed_in: FlaskClient, data: st.DataObject
) -> None:
    routes = staff_routes(staff)
    method, rule = data.draw(st.sampled_from(routes), label="route")
    path = CONVERTER.sub(lambda m: data.draw(SEGMENTS, label=m.group(2)), rule)
    query = data.draw(st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=4), label="query")
    if method == "GET":
        response = signed_in.get(path, query_string=query)
    else:
        response = signed_in.post(path, query_string=query, data={})
    assert response.status_code < 500, (method, path, query, response.status_code)


def test_fuzz_covers_every_staff_route(staff: Flask) -> None:
    """The fuzzer's route list is the app's: a new staff page is fuzzed without a change here."""
    rules = {rule for _, rule in staff_routes(staff)}
    assert {"/admin/points", "/admin/audit", "/admin/points/<int:point_id>"} <= rules
    assert "/api/points/<int:point_id>" in rules
    assert point_ids_in(staff, "999901")  # the fuzzed database has points to find
