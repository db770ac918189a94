"""Per collection point statistics (scans, responses, completion, last response) and exports."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import selectinload

from survey.extensions import db
from survey.links import questionnaire_url
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import PointScanDaily
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models import User
from survey.reporting.channel_rows import completion
from survey.reporting.results import Completion
from survey.services.access import region_condition
from survey.services.csv_files import csv_bytes
from survey.services.names import printable
from survey.spreadsheet_text import safe_cell
from survey.timeutil import local_time

SORT_KEYS: tuple[str, ...] = (
    "code",
    "label",
    "region",
    "channel",
    "status",
    "scans",
    "responses",
    "rate",
    "last",
    "created",
)


@dataclass(frozen=True)
class PointFilter:
    """Which points to list: a region subtree, a channel, a questionnaire version, a status."""

    region: Region | None = None
    channel: Channel | None = None
    version: QuestionnaireVersion | None = None
    status: str = ""  # "", "active", "inactive"
    point_ids: tuple[int, ...] = ()
    #: Every version of one questionnaire (the command line selects by questionnaire key).
    questionnaire_id: int | None = None


@dataclass(frozen=True)
class PointStats:
    """One row of the statistics list."""

    point: CollectionPoint
    scans: int
    responses: int
    last_response_at: dt.datetime | None

    @property
    def completion(self) -> Completion:
        """Scans, responses and the completion rate, as the dashboard computes it (None
        before the first scan or when responses exceed scans, with the reason in ``note``)."""
        return completion(self.scans, self.responses)

    @property
    def completion_rate(self) -> float | None:
        """Responses per scan (:attr:`completion`'s rate)."""
        return self.completion.rate

    @property
    def status(self) -> str:
        """Chinese status of the point."""
        return point_status(self.point)


def point_status(point: CollectionPoint) -> str:
    """有效, 已停用 or 已过期."""
    if not point.active:
        return "已停用"
    if point.is_expired():
        return "已过期"
    return "有效"


def filtered_points(user: User | None, flt: PointFilter) -> Any:
    """A select of the points in the user's scope (None: the command line, everything)."""
    query = db.select(CollectionPoint).join(Region, Region.id == CollectionPoint.region_id)
    if user is not None:
        query = query.where(region_condition(user))
    if flt.questionnaire_id is not None:
        query = query.join(
            QuestionnaireVersion,
            QuestionnaireVersion.id == CollectionPoint.questionnaire_version_id,
        ).where(QuestionnaireVersion.questionnaire_id == flt.questionnaire_id)
    if flt.region is not None:
        query = query.where(Region.path.startswith(flt.region.path))
    if flt.channel is not None:
        query = query.where(CollectionPoint.channel_id == flt.channel.id)
    if flt.version is not None:
        query = query.where(CollectionPoint.questionnaire_version_id == flt.version.id)
    if flt.status == "active":
        query = query.where(CollectionPoint.active.is_(True))
    elif flt.status == "inactive":
        query = query.where(CollectionPoint.active.is_(False))
    if flt.point_ids:
        query = query.where(CollectionPoint.id.in_(flt.point_ids))
    return query


def points_for_batch(
    user: User | None, flt: PointFilter, limit: int | None = None, by_region: bool = False
) -> list[CollectionPoint]:
    """Matching points by id (or by region, then id), at most ``limit`` (print, ZIP, CLI)."""
    query = filtered_points(user, flt).options(
        selectinload(CollectionPoint.region).selectinload(Region.parent),
        selectinload(CollectionPoint.channel),
        selectinload(CollectionPoint.questionnaire_version),
    )
    order = (Region.path, CollectionPoint.id) if by_region else (CollectionPoint.id,)
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def point_stats(
    user: User, flt: PointFilter, sort: str = "code", desc: bool = False
) -> list[PointStats]:
    """Statistics for every matching point; the database does the counting."""
    scans = (
        db.select(PointScanDaily.point_id, db.func.sum(PointScanDaily.scans).label("scans"))
        .group_by(PointScanDaily.point_id)
        .subquery()
    )
    answered = (
        db.select(
            Response.point_id,
            db.func.count(Response.id).label("responses"),
            db.func.max(Response.submitted_at).label("last"),
        )
        .where(Response.point_id.is_not(None))
        .group_by(Response.point_id)
        .subquery()
    )
    points = filtered_points(user, flt).subquery()
    query = (
        db.select(CollectionPoint, scans.c.scans, answered.c.responses, answered.c.last)
        .join(points, points.c.id == CollectionPoint.id)
        .outerjoin(scans, scans.c.point_id == CollectionPoint.id)
        .outerjoin(answered, answered.c.point_id == CollectionPoint.id)
    )
    rows = [
        PointStats(point, int(s or 0), int(r or 0), last)
        for point, s, r, last in db.session.execute(query).all()
    ]
    return sort_stats(rows, sort, desc)


def sort_stats(rows: list[PointStats], sort: str, desc: bool) -> list[PointStats]:
    """Sort by a column of the list; empty values always last."""
    if sort not in SORT_KEYS:
        sort = "code"
    keys: dict[str, Any] = {
        "code": lambda s: s.point.code,
        "label": lambda s: s.point.label,
        "region": lambda s: s.point.region.path,
        "channel": lambda s: s.point.channel.name,
        "status": lambda s: s.status,
        "scans": lambda s: s.scans,
        "responses": lambda s: s.responses,
        "rate": lambda s: s.completion_rate,
        "last": lambda s: s.last_response_at,
        "created": lambda s: s.point.id,
    }
    key = keys[sort]
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=lambda r: (key(r), r.point.id), reverse=desc)
    return present + missing


def totals(rows: Sequence[PointStats]) -> dict[str, Any]:
    """Sums over a list of points for the summary line."""
    scans = sum(r.scans for r in rows)
    responses = sum(r.responses for r in rows)
    return {
        "points": len(rows),
        "active": sum(1 for r in rows if r.status == "有效"),
        "scans": scans,
        "responses": responses,
        "rate": completion(scans, responses).rate,
    }


# --- exports ----------------------------------------------------------------------------

EXPORT_HEADERS: tuple[str, ...] = (
    "点位编码",
    "名称",
    "区域编码",
    "区域",
    "渠道",
    "问卷",
    "状态",
    "扫码次数",
    "答卷数",
    "完成率",
    "最近答卷时间",
    "到期时间",
    "链接",
)


def export_rows(rows: Sequence[PointStats], base_url: str) -> list[list[Any]]:
    """Rows for CSV/XLSX exports, in the order of EXPORT_HEADERS."""
    out: list[list[Any]] = []
    for r in rows:
        p = r.point
        rate = r.completion_rate
        out.append(
            [
                p.code,
                p.label,
                p.region.code,
                p.region.name,
                p.channel.name,
                f"{p.questionnaire_version.title} v{p.questionnaire_version.version}",
                r.status,
                r.scans,
                r.responses,
                round(rate, 4) if rate is not None else "",
                local_time(r.last_response_at),
                local_time(p.expires_at),
                questionnaire_url(p.code, base_url),
            ]
        )
    return out


def to_csv(rows: Sequence[PointStats], base_url: str) -> bytes:
    """Excel-friendly CSV: UTF-8 with BOM, CRLF line ends, Chinese headers."""
    return csv_bytes(EXPORT_HEADERS, export_rows(rows, base_url))


def to_xlsx(rows: Sequence[PointStats], base_url: str) -> bytes:
    """An XLSX workbook with one sheet of point statistics."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "点位统计"
    sheet.append(list(EXPORT_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in export_rows(rows, base_url):
        # Values stored before control characters were refused: openpyxl refuses them.
        sheet.append([safe_cell(printable(v) if isinstance(v, str) else v) for v in row])
    for row_cells in sheet.iter_rows(min_row=2, min_col=10, max_col=10):
        for cell in row_cells:
            cell.number_format = "0.0%"
    widths = (12, 30, 14, 14, 16, 28, 8, 10, 10, 10, 18, 18, 40)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def recent_responses(point: CollectionPoint, limit: int = 200) -> Sequence[Response]:
    """The newest responses collected at ``point`` (no personal data is stored)."""
    return (
        db.session.execute(
            db.select(Response)
            .where(Response.point_id == point.id)
            .order_by(Response.submitted_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
