"""Collection windows of points: when a point is meant to collect (dates, daily hours).

A response submitted outside its point's window gets the weak flag ``OUT_OF_WINDOW``: an
event in a square on Saturday morning should not collect on Tuesday night. A point without
a window collects at any time. Changes are audit-logged.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from survey.date_range import in_range
from survey.date_range import out_of_range_message
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import PointWindow
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit
from survey.services.codes import normalise_code
from survey.services.integrity.screening import Window
from survey.timeutil import CST

_HOURS = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*[-–—~]\s*([0-9]{1,2}):([0-9]{2})\s*$")


def point_by_code(code: str) -> CollectionPoint:
    """The point with ``code`` (any state); ``NotFound`` otherwise."""
    norm = normalise_code(code)
    point = (
        db.session.execute(select(CollectionPoint).where(CollectionPoint.code == norm)).scalar()
        if norm
        else None
    )
    if point is None:
        raise NotFound(f"点位 {code} 不存在。")
    return point


def parse_local(text: str | None) -> dt.datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` in China time, as UTC; ``InvalidInput`` if not."""
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if not in_range(moment):
            raise InvalidInput(out_of_range_message("时间", moment.date()))
        return moment.replace(tzinfo=CST).astimezone(dt.UTC)
    raise InvalidInput(f"无法识别的时间：{text}（应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM）")


def parse_hours(text: str) -> tuple[int, int]:
    """``HH:MM-HH:MM`` as minutes after local midnight; ``InvalidInput`` if malformed."""
    match = _HOURS.match(text or "")
    if not match:
        raise InvalidInput(f"无法识别的时段：{text}（应为 HH:MM-HH:MM）")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        raise InvalidInput(f"无法识别的时段：{text}")
    start, end = min(h1 * 60 + m1, 1440), min(h2 * 60 + m2, 1440)
    if start == end:
        raise InvalidInput("每日时段的开始和结束不能相同。")
    return start % 1440, end if end == 1440 else end % 1440


def window_of(point: CollectionPoint) -> Window | None:
    """The point's window, or None."""
    row = db.session.get(PointWindow, point.id)
    if row is None:
        return None
    return Window(row.starts_at, row.ends_at, row.daily_start, row.daily_end) or None


def set_window(
    user: User | None,
    point: CollectionPoint,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    daily: tuple[int | None, int | None] | None,
) -> Window | None:
    """Set the point's window (all None: remove it); audit-logged; flushes."""
    daily_start, daily_end = daily or (None, None)
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidInput("结束时间必须晚于开始时间。")
    window = Window(starts_at, ends_at, daily_start, daily_end)
    row = db.session.get(PointWindow, point.id)
    if not window:
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = PointWindow(point_id=point.id)
            db.session.add(row)
        row.starts_at, row.ends_at = starts_at, ends_at
        row.daily_start, row.daily_end = daily_start, daily_end
        row.updated_at = utcnow()
        row.updated_by_id = user.id if user is not None else None
    db.session.flush()
    audit.record(user, "point_window", "point", point.id, code=point.code, window=window.describe())
    return window or None
