"""QR codes: PNG and SVG per point, an A4 print sheet and a ZIP of PNGs for a batch."""

from __future__ import annotations

from flask import Response
from flask import stream_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from survey.models import CollectionPoint
from survey.reporting import point_table as stats
from survey.services import access
from survey.services import audit
from survey.services import qr_batch
from survey.services import transaction
from survey.web.admin import bp
from survey.web.admin.helpers import staff
from survey.web.filters import point_filter

#: Posters on one print page (a browser lays out 2,000 SVG posters in seconds; more is a
#: page nobody prints in one go). The page says when the selection holds more.
MAX_SHEET_POINTS = 2000


@bp.get("/points/<int:point_id>/qr.png")
def point_qr_png(point_id: int) -> ResponseReturnValue:
    """PNG poster image: the QR code with label and short code underneath."""
    point = access.point_in_scope(staff(), point_id)
    body = qr_batch.image_bytes(point, "png")
    return _image(body, "image/png", f"{point.code}.png")


@bp.get("/points/<int:point_id>/qr.svg")
def point_qr_svg(point_id: int) -> ResponseReturnValue:
    """SVG of the QR code (scales to any poster size) with label and code as text."""
    point = access.point_in_scope(staff(), point_id)
    body = qr_batch.image_bytes(point, "svg")
    return _image(body, "image/svg+xml", f"{point.code}.svg")


def _image(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _batch_points(limit: int | None) -> list[CollectionPoint]:
    user = staff()
    flt = point_filter(user)
    return stats.points_for_batch(user, flt, limit)


@bp.get("/points/print")
def points_print() -> ResponseReturnValue:
    """A4 print sheet: several posters per page, each with region, channel, label and link.

    Streamed poster by poster, so a sheet of 2,000 points starts arriving at once.
    """
    user = staff()
    points = _batch_points(MAX_SHEET_POINTS + 1)
    more = len(points) > MAX_SHEET_POINTS
    posters = qr_batch.sheet_posters(points[:MAX_SHEET_POINTS])
    audit.record(user, "print_qr", "point", None, count=len(posters))
    transaction.commit()
    symbols = ((poster, Markup(svg)) for poster, svg in qr_batch.with_symbols(posters))
    page = stream_template("admin/print_sheet.html", count=len(posters), more=more, posters=symbols)
    return Response(page, mimetype="text/html")


@bp.get("/points/qr.zip")
def points_zip() -> ResponseReturnValue:
    """A ZIP of PNG posters for every selected point (no cap), plus a CSV index.

    Streamed entry by entry as each poster is rendered: memory stays flat and the first
    bytes leave at once, whatever the number of points.
    """
    user = staff()
    points = _batch_points(None)
    chunks = qr_batch.zip_chunks(points)
    audit.record(user, "export_qr", "point", None, format="zip", count=len(points))
    transaction.commit()
    response = Response(chunks, mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=qr-codes.zip"
    return response
