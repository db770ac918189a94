"""QR images decode to the point URL, that URL opens the questionnaire; print sheet, ZIP, codes."""

from __future__ import annotations

import io
import itertools
import zipfile
from urllib.parse import urlsplit
from xml.etree import ElementTree

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pyzbar.pyzbar import decode
from scipy import stats

from survey import qr
from survey.extensions import db
from survey.models import CollectionPoint
from survey.services.codes import ALPHABET
from survey.services.codes import CODE_LENGTH
from survey.services.codes import new_code
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import point_ids_in


def _decoded(png: bytes) -> list[str]:
    return [d.data.decode("utf-8") for d in decode(Image.open(io.BytesIO(png)))]


def _point(app: Flask, point_id: int) -> tuple[str, str]:
    with app.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None
        return point.code, point.questionnaire_version.title


def test_every_png_decodes_to_its_url_which_opens_the_questionnaire(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    ids = point_ids_in(staff, "999901")
    for point_id in ids:
        code, title = _point(staff, point_id)
        response = client.get(f"/admin/points/{point_id}/qr.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        url = f"http://survey.test/q/{code}"
        assert _decoded(response.get_data()) == [url]
        page = client.get(urlsplit(url).path)
        assert page.status_code == 200
        assert title in page.get_data(as_text=True)


def test_zip_of_pngs_for_a_batch(staff: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    ids = point_ids_in(staff, "999904")[:6]
    response = client.get("/admin/points/qr.zip?ids=" + ",".join(map(str, ids)))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = [n for n in archive.namelist() if n.endswith(".png")]
    assert len(names) == 6
    index = archive.read("index.csv").decode("utf-8-sig")
    for name in names:
        code = name.rsplit("_", 1)[1].removesuffix(".png")
        assert _decoded(archive.read(name)) == [f"http://survey.test/q/{code}"]
        assert code in index


def test_svg_is_well_formed_with_label(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    point_id = point_ids_in(staff, "999901")[0]
    code, _ = _point(staff, point_id)
    response = client.get(f"/admin/points/{point_id}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert code in texts
    assert any(t and "临江区" in t for t in texts)


def test_print_sheet_has_one_poster_per_point(
    staff: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    ids = point_ids_in(staff, "999902")
    page = client.get("/admin/points/print?region=" + str(_region_id(staff, "999902")))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('class="poster"') == len(ids)
    assert "@page" not in text  # print CSS lives in admin.css
    with client.get("/static/admin.css") as static:
        css = static.get_data(as_text=True)
    assert "@page" in css and "A4" in css


def _region_id(app: Flask, code: str) -> int:
    from survey.models import Region

    with app.app_context():
        return db.session.execute(db.select(Region.id).where(Region.code == code)).scalar_one()


def test_png_has_quiet_zone_and_caption() -> None:
    png = qr.png_bytes("http://survey.test/q/ABCDEFGHJ", "临江区 · 公告栏", "ABCDEFGHJ")
    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = np.asarray(image)
    border = 4 * 10  # four modules of ten pixels
    assert (pixels[:border, :] == 255).all() and (pixels[:, :border] == 255).all()
    assert (pixels[:, -border:] == 255).all()
    assert image.height > image.width  # room for the caption
    assert (pixels[image.width :, :] < 128).any()  # the caption was drawn


# Each statistical check below fails a fair generator with probability about FALSE_ALARM, so
# the whole test fails a fair generator about never, while a counter, a time-derived code or a
# biased alphabet fails it by orders of magnitude. Bounds come from the exact null distributions
# (scipy), not from hand-picked constants: a bound of 6 for the largest prefix count used to
# fail a fair generator once in 500 runs, and 4 for neighbour prefixes once in 37,000.
FALSE_ALARM = 1e-10


def test_ten_thousand_codes_are_unique_and_unpredictable() -> None:
    n = 10_000
    codes = [new_code() for _ in range(n)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set(ALPHABET)
    k = len(ALPHABET)
    # Every position is uniform over the alphabet: chi-square with k - 1 degrees of freedom.
    matrix = np.array([[ALPHABET.index(ch) for ch in c] for c in codes])
    chi2_bound = stats.chi2.isf(FALSE_ALARM / CODE_LENGTH, k - 1)  # about 114 for df=30
    for position in range(CODE_LENGTH):
        counts = np.bincount(matrix[:, position], minlength=k)
        chi2 = float(((counts - n / k) ** 2 / (n / k)).sum())
        assert chi2 < chi2_bound, (position, chi2)
    # No common prefixes beyond chance: each of the k**3 prefixes is hit Poisson(n / k**3) times
    # (mean about 0.34), and the largest of k**3 counts stays small.
    prefix_count = k**3
    prefixes: dict[str, int] = {}
    for c in codes:
        prefixes[c[:3]] = prefixes.get(c[:3], 0) + 1
    max_bound = stats.poisson.isf(FALSE_ALARM / prefix_count, n / prefix_count)
    assert max(prefixes.values()) <= max_bound
    # Not sequential: successive codes (as numbers) are uncorrelated (r is about normal with
    # SD 1/sqrt(n)), and neighbours share their leading symbols only by chance.
    values = np.array([int("".join(str(i).zfill(2) for i in row)) for row in matrix], float)
    r = float(np.corrcoef(values[:-1], values[1:])[0, 1])
    assert abs(r) < stats.norm.isf(FALSE_ALARM / 2) / np.sqrt(n - 1)
    neighbours = sum(a[:3] == b[:3] for a, b in itertools.pairwise(codes))
    assert neighbours <= stats.poisson.isf(FALSE_ALARM, (n - 1) / prefix_count)
    # Successive differences are not constant (as a counter's would be).
    assert len(set(np.diff(values[:100]).tolist())) > 90
