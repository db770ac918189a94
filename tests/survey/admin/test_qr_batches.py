"""Issue 23, item 9: the QR ZIP holds every selected point, at any number of points.

2,108 points (the issue's count, beyond the old cap of 2,000) are stored, then the real
route is downloaded as a browser would: every point has its PNG (decodable, its own URL),
the index lists every one, and the answer is streamed. Nothing in the app is patched.
The print sheet keeps a page limit, and says so when the selection exceeds it.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pyzbar.pyzbar import decode

from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.services.codes import new_code
from tests.survey.admin.conftest import AuthActions

POINTS = 2108


def _add_points(app: Flask, n: int) -> set[str]:
    """Store ``n`` more points across the communities of the demo city; their codes."""
    with app.app_context():
        version = db.session.execute(db.select(QuestionnaireVersion.id)).scalars().first()
        channel = db.session.execute(db.select(Channel.id)).scalars().first()
        regions = list(
            db.session.execute(db.select(Region.id).where(Region.level == "community")).scalars()
        )
        codes = set()
        while len(codes) < n:
            codes.add(new_code())
        db.session.execute(
            db.insert(CollectionPoint),
            [
                {
                    "code": code,
                    "questionnaire_version_id": version,
                    "region_id": regions[i % len(regions)],
                    "channel_id": channel,
                    "label": f"批量点位 {i}",
                }
                for i, code in enumerate(sorted(codes))
            ],
        )
        db.session.commit()
        return codes


def _all_codes(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.execute(db.select(CollectionPoint.code)).scalars())


def test_zip_holds_every_png_beyond_two_thousand_points(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    added = _add_points(staff, POINTS)
    codes = _all_codes(staff)
    assert len(codes) > POINTS and added <= codes
    auth.login()
    response = client.get("/admin/points/qr.zip")
    assert response.status_code == 200 and response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == len(codes) == len(set(pngs))
    # File names end with the point's code: every stored point is there, once.
    assert {n.rsplit("_", 1)[1].removesuffix(".png") for n in pngs} == codes
    index = list(csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert len(index) == len(codes) + 1 and {row[0] for row in index[1:]} == codes
    last = sorted(pngs)[-1]
    decoded = [d.data.decode() for d in decode(Image.open(io.BytesIO(archive.read(last))))]
    assert decoded == [f"http://survey.test/q/{last.rsplit('_', 1)[1].removesuffix('.png')}"]


def test_print_sheet_says_when_the_selection_exceeds_a_page(
    staff: Flask, client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey.web.admin import qr as qr_views

    auth.login()
    total = len(_all_codes(staff))
    monkeypatch.setattr(qr_views, "MAX_SHEET_POINTS", total - 1)
    page = client.get("/admin/points/print").get_data(as_text=True)
    assert page.count('class="poster"') == total - 1
    assert f"选中的点位超过 {total - 1} 个" in page and "二维码 ZIP" in page
    monkeypatch.setattr(qr_views, "MAX_SHEET_POINTS", total)
    page = client.get("/admin/points/print").get_data(as_text=True)
    assert page.count('class="poster"') == total and "选中的点位超过" not in page
