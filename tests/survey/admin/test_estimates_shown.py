"""Issue 24: estimates nobody has to hide, on the pages, the XLSX and the JSON API.

* 微信公众号 (a push channel) on the demo shows an estimate with an interval, on the
  dashboard and in the XLSX;
* weighting cells in the open: a planted thin cell is named on the page, in the export's
  说明 sheet and in the API's JSON, for both periods of a one-week post-stratified report;
  the minimum cell size is a setting of the targets page (stored, audit-logged, applied);
* the street table carries the small-area model column, with 合成 for a street without
  responses.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import insert

from survey.extensions import db
from survey.models import AuditLog
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import EstimateSettings
from survey.models import Region
from survey.models import Response
from survey.reporting import METRICS
from survey.services.regions import create_region
from tests.survey.admin.conftest import csrf_token
from tests.survey.admin.test_dashboard import City
from tests.survey.admin.test_dashboard import city  # noqa: F401
from tests.survey.admin.test_dashboard import signed_in
from tests.survey.admin.test_dashboard import text_of

#: Planted weeks, far from the demo's (so they hold only the planted responses).
WEEK = dt.date(2030, 1, 7)
PREVIOUS = WEEK - dt.timedelta(weeks=1)
ONE_WEEK = f"from={WEEK}&to={WEEK + dt.timedelta(days=6)}"
AGES = ("18-29", "30-39", "40-49", "50-59", "60+")


def _place_point(district_code: str) -> CollectionPoint:
    district = db.session.execute(
        db.select(Region).where(Region.code == district_code)
    ).scalar_one()
    return (
        db.session.execute(
            db.select(CollectionPoint)
            .join(Region, Region.id == CollectionPoint.region_id)
            .join(Channel, Channel.id == CollectionPoint.channel_id)
            .where(Region.path.startswith(district.path), Channel.kind == "place")
            .order_by(CollectionPoint.id)
        )
        .scalars()
        .first()
    )


def plant(
    app: Flask, week: dt.date, district_code: str, thin: tuple[str, str], n_thin: int
) -> None:
    """Responses in ``week`` at one place point of the district: 6 in every age x sex cell,
    ``n_thin`` in the cell ``thin``."""
    with app.app_context():
        point = _place_point(district_code)
        version = point.questionnaire_version
        district = db.session.get(Region, point.region_id).ancestor_ids()
        district_id = next(r for r in district if db.session.get(Region, r).level == "district")
        rows = []
        for age in AGES:
            for sex in ("female", "male"):
                count = n_thin if (age, sex) == thin else 6
                for i in range(count):
                    rows.append(
                        {
                            "questionnaire_id": version.questionnaire_id,
                            "questionnaire_version_id": version.id,
                            "point_id": point.id,
                            "region_id": point.region_id,
                            "district_id": district_id,
                            "channel_id": point.channel_id,
                            "source": "qr",
                            "submitted_at": dt.datetime.combine(week, dt.time(3, i), tzinfo=dt.UTC),
                            "week_start": week,
                            "flags": 0,
                            "age_group": age,
                            "sex": sex,
                            "awareness": float(i % 3 != 0),
                            "participation": float(i % 2),
                            "satisfaction": float(i % 4 != 0),
                            "satisfaction_score": 60.0 + 5 * (i % 7),
                        }
                    )
        db.session.execute(insert(Response), rows)
        db.session.commit()


def _planted(town: City) -> FlaskClient:
    plant(town.app, WEEK, "999901", ("60+", "male"), 2)  # 临江区 60+ 男: 2 responses
    plant(town.app, PREVIOUS, "999901", ("18-29", "female"), 1)  # 临江区 18-29 女: 1
    return signed_in(town.app, "city")


THIS_CELL = "临江区 60+ 男"
LAST_CELL = "临江区 18-29 女"


def test_wechat_shows_an_estimate_with_an_interval(city: City) -> None:  # noqa: F811
    client = signed_in(city.app, "city")
    page = text_of(client.get("/admin/"))
    table = page.split("<h2>按渠道</h2>", 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split("<tr>") if "微信公众号" in r)
    assert re.search(r"<b>\d+\.\d%</b> <span class=\"ci\">（\d+\.\d%–\d+\.\d%）</span>", row), row
    book = load_workbook(io.BytesIO(client.get("/admin/exports/report.xlsx").get_data()))
    sheet = book["按渠道"]
    headers = [c.value for c in sheet[2]]
    wechat = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] == "微信公众号")
    value, low, high = (
        wechat[headers.index(h)] for h in ("知晓率", "知晓率95%下限", "知晓率95%上限")
    )
    assert value is not None and low is not None and high is not None
    assert low < value < high


def test_a_thin_street_shows_its_figure_with_the_word_beside_it(city: City) -> None:  # noqa: F811
    client = signed_in(city.app, "city")
    thin = city.regions["999902003"]  # 白鹭镇: a handful of responses
    page = text_of(client.get(f"/admin/?region={thin.parent_id}&level=street"))
    row = next(r for r in page.split("<tr>") if r.startswith(f'<td class="nowrap">{thin.name}'))
    assert re.search(r"<b>\d+\.\d%</b> <span class=\"ci\">", row)  # the figure, with interval
    assert "样本不足" in row  # and the word beside it
    api = client.get(f"/api/v1/estimates?by=street&region={thin.parent_id}").get_json()
    entry = next(r for r in api["rows"] if r["label"] == thin.name)
    for metric in METRICS:
        estimate = entry["metrics"][metric]["estimate"]
        assert estimate["estimate"] is not None and "样本不足" in estimate["reason"]


def test_merges_of_both_periods_are_named_everywhere(city: City) -> None:  # noqa: F811
    client = _planted(city)
    query = f"{ONE_WEEK}&weighting=poststratify"
    api = client.get(f"/api/v1/estimates?{query}").get_json()
    merges = api["weighting"]["merges"]
    assert {m["period"] for m in merges} == {"本期", "上期"}
    assert any(THIS_CELL in m["cells"] and m["period"] == "本期" for m in merges)
    assert any(LAST_CELL in m["cells"] and m["period"] == "上期" for m in merges)
    assert "迭代比例加权" in api["weighting"]["advice"]
    page = text_of(client.get(f"/admin/?{query}"))
    assert THIS_CELL in page and LAST_CELL in page and "上期（" in page
    assert "weighting=rake" in page  # raking offered
    book = load_workbook(io.BytesIO(client.get(f"/admin/exports/report.xlsx?{query}").get_data()))
    notes = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True) if row[0]}
    assert THIS_CELL in notes["加权格合并"] and LAST_CELL in notes["加权格合并"]
    raked = client.get(f"/api/v1/estimates?{ONE_WEEK}&weighting=rake").get_json()
    assert raked["weighting"]["merges"] == [] and "不合并" in raked["weighting"]["advice"]


def test_minimum_cell_size_is_a_setting(city: City) -> None:  # noqa: F811
    client = _planted(city)
    token = csrf_token(client, "/admin/targets")
    bad = client.post("/admin/targets/weighting", data={"csrf_token": token, "min_cell_n": "五"})
    assert bad.status_code == 400 and "不是整数" in bad.get_data(as_text=True)
    with city.app.app_context():
        assert db.session.execute(db.select(EstimateSettings)).first() is None
    done = client.post("/admin/targets/weighting", data={"csrf_token": token, "min_cell_n": "1"})
    assert done.status_code == 302
    with city.app.app_context():
        assert db.session.execute(db.select(EstimateSettings.min_cell_n)).scalar_one() == 1
        actions = db.session.execute(db.select(AuditLog.action)).scalars().all()
        assert "min_cell_set" in actions
    api = client.get(f"/api/v1/estimates?{ONE_WEEK}&weighting=poststratify").get_json()
    assert api["weighting"]["min_cell_n"] == 1
    assert api["weighting"]["merges"] == []  # 1 merges only empty cells: none planted
    assert "加权格最少答卷数" in client.get("/admin/targets").get_data(as_text=True)
    officer = signed_in(city.app, "linjiang")
    token = csrf_token(officer, "/admin/")
    denied = officer.post("/admin/targets/weighting", data={"csrf_token": token, "min_cell_n": "9"})
    assert denied.status_code == 403


def test_street_table_has_the_model_column(city: City) -> None:  # noqa: F811
    with city.app.app_context():
        district = db.session.get(Region, city.id("999901"))
        empty_id = create_region("999901099", "新建街道", "street", district).id
        db.session.commit()
    client = signed_in(city.app, "city")
    page = text_of(client.get("/admin/?level=street"))
    assert "模型估计（小区域）" in page and "借助区县差异、上期估计和人口结构" in page
    row = next(r for r in page.split("<tr>") if r.startswith('<td class="nowrap">新建街道'))
    assert "合成" in row and "无有效答卷" in row  # direct: nothing; model: synthetic
    api = client.get("/api/v1/estimates?by=street").get_json()
    model = api["model"]["estimates"]["awareness"]
    assert model[str(empty_id)]["synthetic"] is True
    assert model[str(empty_id)]["ci_low"] < model[str(empty_id)]["estimate"]
    book = load_workbook(io.BytesIO(client.get("/admin/exports/report.xlsx").get_data()))
    headers = [c.value for c in book["按街道"][2]]
    assert "知晓率模型估计（小区域）" in headers
