"""The dashboard pages, chart downloads and JSON API as staff use them.

Scoping: a district (or street) officer's pages, charts and API answers never carry another
district's name or figures, and a region outside the scope is a 404. Then the page itself:
filters and levels, 400 on bad arguments, 样本不足 in words for a thin street, the default
period, PNG downloads, and the city admin's population and targets pages (audit-logged, and
targets change the status the dashboard shows).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey import demo
from survey.extensions import db
from survey.models import AuditLog
from survey.models import Channel
from survey.models import Region
from survey.reporting import METRICS
from survey.reporting import TABLE_BY
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import csrf_token

RESPONSES = 1500


@dataclass(frozen=True)
class City:
    """The demo city with responses, and what the tests look up in it."""

    app: Flask
    regions: dict[str, Region]  # by code (detached copies: id, code, name, path, parent_id)

    def id(self, code: str) -> int:
        return self.regions[code].id

    def names_outside(self, code: str) -> set[str]:
        """Names of every region (and so of every point label) outside ``code``'s subtree
        and above it, except the city itself."""
        root = self.regions[code]
        inside = {r.name for r in self.regions.values() if r.path.startswith(root.path)}
        above = {r.name for r in self.regions.values() if root.path.startswith(r.path)}
        return {r.name for r in self.regions.values()} - inside - above


@pytest.fixture
def city(staff: Flask) -> City:
    """The demo city with 1,500 demo responses over the last 12 weeks (scans to match)."""
    with staff.app_context():
        demo.add_responses(RESPONSES)
        regions = {}
        for region in db.session.execute(db.select(Region)).scalars():
            db.session.expunge(region)
            regions[region.code] = region
    return City(staff, regions)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The body as text; JSON with its Chinese unescaped (Flask writes \\uXXXX escapes)."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def assert_none_of(names: set[str], body: str, where: str) -> None:
    found = sorted(n for n in names if n in body)
    assert not found, f"{where} shows {found}"


def pages_of(city: City, home: str) -> list[str]:
    """Dashboard addresses with filters and levels inside the region ``home``."""
    street = next(r for r in city.regions.values() if r.parent_id == city.id(home))
    return [
        "/admin/",
        "/admin/?level=street",
        "/admin/?level=community",
        "/admin/?weighting=poststratify",
        "/admin/?weighting=rake&level=street",
        "/admin/?flagged=include",
        "/admin/?from=&to=",
        f"/admin/?region={street.id}&level=community",
        "/admin/?psort=label&pdesc=0",
    ]


@pytest.mark.parametrize(("username", "home"), [("linjiang", "999901"), ("qingshan", "999902")])
def test_officer_sees_no_other_district_anywhere(city: City, username: str, home: str) -> None:
    client = signed_in(city.app, username)
    foreign = city.names_outside(home)
    own = city.regions[home].name
    for path in pages_of(city, home):
        page = client.get(path)
        assert page.status_code == 200, path
        body = text_of(page)
        assert own in body, path
        assert_none_of(foreign, body, path)
    for metric in METRICS:
        svg = client.get(f"/admin/charts/trend-{metric}.svg?level=street")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert_none_of(foreign, text_of(svg), f"{metric} svg")
        png = client.get(f"/admin/charts/trend-{metric}.png")
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    for by in TABLE_BY:
        for weighting in ("none", "poststratify"):
            api = client.get(f"/api/v1/estimates?by={by}&weighting={weighting}")
            assert api.status_code == 200, (by, weighting)
            assert_none_of(foreign, text_of(api), f"api by={by}")
    trend = client.get("/api/v1/trend")
    assert trend.status_code == 200
    assert_none_of(foreign, text_of(trend), "api trend")
    districts = client.get("/api/v1/estimates?by=district").get_json()["rows"]
    assert [row["label"] for row in districts] == [own]
    # the check has teeth: the city admin's same pages do show the other districts
    admin = signed_in(city.app, "city")
    shown = text_of(admin.get("/admin/?level=street")) + text_of(admin.get("/api/v1/trend"))
    shown += text_of(admin.get("/api/v1/estimates?by=point"))
    assert len([n for n in foreign if n in shown]) >= 9


@pytest.mark.parametrize(("username", "home"), [("linjiang", "999901"), ("qingshan", "999902")])
def test_officer_figures_are_their_district_only(city: City, username: str, home: str) -> None:
    officer = signed_in(city.app, username)
    admin = signed_in(city.app, "city")
    period = "from=2000-01-03&to=2099-12-27"
    mine = officer.get(f"/api/v1/estimates?by=overall&{period}").get_json()
    theirs = admin.get(f"/api/v1/estimates?by=overall&{period}&region={city.id(home)}").get_json()
    whole = admin.get(f"/api/v1/estimates?by=overall&{period}").get_json()
    assert mine["rows"] == theirs["rows"]  # the officer's figures are the district's own
    assert mine["rows"][0]["responses"] < whole["rows"][0]["responses"]
    assert mine["rows"] != whole["rows"]
    trend_mine = officer.get(f"/api/v1/trend?{period}").get_json()["series"]
    trend_theirs = admin.get(f"/api/v1/trend?{period}&region={city.id(home)}").get_json()
    assert trend_mine == trend_theirs["series"]


def test_region_outside_the_scope_is_404(city: City) -> None:
    client = signed_in(city.app, "linjiang")
    other = city.id("999902")
    other_street = next(r for r in city.regions.values() if r.parent_id == other).id
    for region in (other, other_street, city.id("999900")):
        for path in (
            f"/admin/?region={region}",
            f"/admin/charts/trend-awareness.png?region={region}",
            f"/admin/charts/trend-awareness.svg?region={region}",
            f"/api/v1/estimates?region={region}",
            f"/api/v1/estimates?by=point&region={region}",
            f"/api/v1/trend?region={region}",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert_none_of({"青山区", "新城区", "云溪县"}, text_of(response), path)


def test_street_officer_sees_only_their_street(city: City) -> None:
    client = signed_in(city.app, "street_officer")
    foreign = city.names_outside("999901001")
    for path in ("/admin/", "/admin/?level=community", "/api/v1/estimates?by=point"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_none_of(foreign, text_of(response), path)
    assert client.get(f"/admin/?region={city.id('999901002')}").status_code == 404


def test_filters_and_levels_are_applied(city: City) -> None:
    client = signed_in(city.app, "city")
    with city.app.app_context():
        wechat = db.session.execute(db.select(Channel).where(Channel.code == "wechat")).scalar_one()
    district = city.regions["999901"]
    page = text_of(
        client.get(
            f"/admin/?from=2000-01-03&to=2099-12-27&region={district.id}&level=street"
            f"&channel={wechat.id}&weighting=poststratify&flagged=include"
        )
    )
    assert "<h2>按街道/镇</h2>" in page
    assert "2000-01-03 至 2099-12-27" in page
    assert "事后分层加权" in page and "存疑答卷已计入" in page
    assert 'value="poststratify" selected' in page and 'value="street" selected' in page
    table = page.split("<h2>按街道/镇</h2>")[1].split("</table>")[0]
    streets = [r.name for r in city.regions.values() if r.parent_id == district.id]
    assert all(name in table for name in streets)
    assert "青山街道" not in table
    community = text_of(client.get(f"/admin/?region={district.id}&level=community"))
    assert "和平社区" in community  # a community of 临江区
    api = client.get(f"/api/v1/estimates?by=street&region={district.id}&channel={wechat.id}")
    rows = api.get_json()["rows"]
    assert {row["label"] for row in rows} >= set(streets)


BAD_QUERIES: tuple[tuple[str, str], ...] = (
    ("from=2026-13-01", "参数 from 的日期格式应为 YYYY-MM-DD"),
    ("to=yesterday", "参数 to 的日期格式应为 YYYY-MM-DD"),
    ("from=2026-11-30&to=2026-11-01", "结束日期早于开始日期"),
    ("weighting=magic", "参数 weighting 只能是"),
    ("level=province", "参数 level 只能是"),
    ("flagged=maybe", "参数 flagged 只能是"),
    ("region=abc", ""),
    ("channel=1.5", ""),
    ("version=x", ""),
)


def test_bad_arguments_are_400(staff: Flask) -> None:
    client = signed_in(staff, "city")
    for query, message in BAD_QUERIES:
        for path in ("/admin/", "/admin/charts/trend-awareness.png", "/api/v1/estimates"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert message in text_of(response), (path, query)


def test_bad_api_arguments_are_400(staff: Flask) -> None:
    client = signed_in(staff, "city")
    assert client.get("/api/v1/estimates?by=province").status_code == 400
    assert client.get("/api/v1/estimates?metric=happiness").status_code == 400
    assert client.get("/api/v1/trend?metric=happiness").status_code == 400
    assert client.get("/admin/charts/trend-happiness.png").status_code == 404
    assert client.get("/admin/charts/trend-awareness.gif").status_code == 404


def test_thin_street_says_too_few_in_words(city: City) -> None:
    client = signed_in(city.app, "city")
    thin = city.regions[demo.THIN_STREETS[0]]  # 白鹭镇, built to have a handful of responses
    page = text_of(client.get(f"/admin/?region={thin.parent_id}&level=street"))
    row = next(r for r in page.split("<tr>") if r.startswith(f'<td class="nowrap">{thin.name}'))
    assert "样本不足" in row
    # issue 24: the figure is shown with its interval, 样本不足 beside it, never bare
    assert re.search(r"<b>\d+\.\d%</b> <span class=\"ci\">", row)
    api = client.get(f"/api/v1/estimates?by=street&region={thin.parent_id}").get_json()
    entry = next(r for r in api["rows"] if r["label"] == thin.name)
    for metric in METRICS:
        estimate = entry["metrics"][metric]["estimate"]
        assert estimate["too_few"] and "样本不足" in estimate["reason"]
        assert estimate["estimate"] is not None
        assert entry["metrics"][metric]["rank"] is None


def test_default_period_is_the_last_complete_weeks_with_a_change(city: City) -> None:
    client = signed_in(city.app, "city")
    page = text_of(client.get("/admin/"))
    match = re.search(r"口径：</b>(\d{4}-\d\d-\d\d) 至 (\d{4}-\d\d-\d\d)（按答卷所在周）", page)
    assert match, "period missing"
    start, end = (dt.date.fromisoformat(d) for d in match.groups())
    assert start.weekday() == 0 and end.weekday() == 6 and (end - start).days == 27
    assert "默认显示最近 4 个完整周" in page
    assert "较上期" in page  # the headline compares with the 4 weeks before
    assert "无上期可比" not in page.split("<h2>按区县</h2>")[0]
    png = client.get(f"/admin/charts/trend-awareness.png?from={start}&to={end}")
    assert png.headers["Content-Disposition"] == 'attachment; filename="trend-awareness.png"'
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    link = re.search(r'href="(/admin/charts/trend-awareness\.png[^"]*)"', page)
    assert link and f"from={start}" in link.group(1) and f"to={end}" in link.group(1)


def test_population_and_targets_pages_are_city_admin_only(staff: Flask) -> None:
    for username in ("linjiang", "viewer", "street_officer"):
        client = signed_in(staff, username)
        for path in ("/admin/population", "/admin/targets", "/admin/population/export.csv"):
            assert client.get(path).status_code == 403, (username, path)
        refused = client.post("/admin/targets", data={"awareness": "50"})
        assert refused.status_code in (400, 403), username
    admin = signed_in(staff, "city")
    for path in ("/admin/population", "/admin/targets"):
        assert admin.get(path).status_code == 200, path


def _set_targets(client: FlaskClient, values: dict[str, str]) -> None:
    token = csrf_token(client, "/admin/targets")
    response = client.post("/admin/targets", data={"csrf_token": token, **values})
    assert response.status_code == 302, text_of(response)


def _headline_status(page: str) -> list[str]:
    head = page.split("总体</h2>")[1].split("<h2>")[0]
    return re.findall(r'<span class="target ([a-z-]+)"', head)


def test_targets_change_the_status_shown_and_are_audit_logged(city: City) -> None:
    client = signed_in(city.app, "city")
    _set_targets(client, {m: "0" for m in METRICS})
    page = text_of(client.get("/admin/"))
    assert _headline_status(page) == ["met"] * 4
    assert "达标" in page
    _set_targets(client, {m: "100" for m in METRICS})
    page = text_of(client.get("/admin/"))
    assert _headline_status(page) == ["not-met"] * 4
    assert "未达标" in page
    _set_targets(client, {m: "" for m in METRICS})
    page = text_of(client.get("/admin/"))
    assert _headline_status(page) == [] and "未设目标" in page
    with city.app.app_context():
        actions = [
            (e.action, e.username, json.loads(e.detail).get("new"))
            for e in db.session.execute(
                db.select(AuditLog)
                .where(AuditLog.action.in_(["target_set", "target_clear"]))
                .order_by(AuditLog.id)
            ).scalars()
        ]
    assert actions[:4] == [("target_set", "city", 0.0)] * 4
    assert [a[0] for a in actions[8:]] == ["target_clear"] * 4
    assert ("target_set", "city", 1.0) in actions and ("target_set", "city", 100.0) in actions


def test_population_import_is_audit_logged_and_changes_the_weights(city: City) -> None:
    client = signed_in(city.app, "city")
    period = "from=2000-01-03&to=2099-12-27&weighting=poststratify"
    before = client.get(f"/api/v1/estimates?by=overall&{period}").get_json()["rows"][0]
    template = client.get("/admin/population/export.csv")
    assert template.status_code == 200
    lines = template.get_data(as_text=True).lstrip("\ufeff").splitlines()
    # the same city with ten times the people aged 60+ in 临江区
    changed = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] == "999901" and cells[2] in ("60+", "60岁及以上"):
            cells[-1] = str(int(cells[-1]) * 10)
        changed.append(",".join(cells))
    token = csrf_token(client, "/admin/population")
    upload = (io.BytesIO("\n".join(changed).encode("utf-8")), "population.csv")
    response = client.post(
        "/admin/population",
        data={"csrf_token": token, "file": upload},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text_of(response)
    after = client.get(f"/api/v1/estimates?by=overall&{period}").get_json()["rows"][0]
    assert after["responses"] == before["responses"]
    awareness = (before["metrics"]["awareness"], after["metrics"]["awareness"])
    assert awareness[0]["estimate"]["estimate"] != awareness[1]["estimate"]["estimate"]
    with city.app.app_context():
        entry = db.session.execute(
            db.select(AuditLog).where(AuditLog.action == "population_import")
        ).scalar_one()
    assert entry.username == "city"
