"""QR codes: PNG and SVG per point, an A4 print sheet and a ZIP of PNGs for a batch."""

from __future__ import annotations

import csv
import io
import zipfile

from flask import Response
from flask import render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from survey import qr
from survey.admin import bp
from survey.admin.helpers import point_filter
from survey.admin.helpers import point_url
from survey.admin.helpers import staff
from survey.extensions import db
from survey.models import CollectionPoint
from survey.services import access
from survey.services import audit
from survey.services import point_stats as stats

MAX_SHEET_POINTS = 2000


def _caption(point: CollectionPoint) -> str:
    return f"{point.region.name} · {point.label}"


@bp.get("/points/<int:point_id>/qr.png")
def point_qr_png(point_id: int) -> ResponseReturnValue:
    """PNG poster image: the QR code with label and short code underneath."""
    point = access.point_or_404(staff(), point_id)
    body = qr.png_bytes(point_url(point.code), _caption(point), point.code)
    return _image(body, "image/png", f"{point.code}.png")


@bp.get("/points/<int:point_id>/qr.svg")
def point_qr_svg(point_id: int) -> ResponseReturnValue:
    """SVG of the QR code (scales to any poster size) with label and code as text."""
    point = access.point_or_404(staff(), point_id)
    body = qr.svg_bytes(point_url(point.code), _caption(point), point.code)
    return _image(body, "image/svg+xml", f"{point.code}.svg")


def _image(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _batch_points(limit: int = MAX_SHEET_POINTS) -> list[CollectionPoint]:
    user = staff()
    flt = point_filter(user)
    query = stats.filtered_points(user, flt).order_by(CollectionPoint.id).limit(limit)
    return list(db.session.execute(query).scalars())


@bp.get("/points/print")
def points_print() -> ResponseReturnValue:
    """A4 print sheet: several posters per page, each with region, channel, label and link."""
    user = staff()
    points = _batch_points()
    posters = [
        (p, point_url(p.code), Markup(qr.svg_bytes(point_url(p.code)).decode("utf-8")))
        for p in points
    ]
    audit.record(user, "print_qr", "point", None, count=len(points))
    db.session.commit()
    return render_template("admin/print_sheet.html", posters=posters)


@bp.get("/points/qr.zip")
def points_zip() -> ResponseReturnValue:
    """A ZIP of PNG posters for the selected points, plus a CSV index."""
    user = staff()
    points = _batch_points()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        index = io.StringIO(newline="")
        writer = csv.writer(index, lineterminator="\r\n")
        writer.writerow(["编码", "区域", "渠道", "名称", "文件", "链接"])
        for p in points:
            url = point_url(p.code)
            name = f"{p.region.code}_{p.channel.code}_{p.code}.png"
            archive.writestr(name, qr.png_bytes(url, _caption(p), p.code))
            writer.writerow([p.code, p.region.name, p.channel.name, p.label, name, url])
        archive.writestr("index.csv", ("\ufeff" + index.getvalue()).encode("utf-8"))
    audit.record(user, "export_qr", "point", None, format="zip", count=len(points))
    db.session.commit()
    response = Response(buffer.getvalue(), mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=qr-codes.zip"
    response.headers["Cache-Control"] = "no-store"
    return response
