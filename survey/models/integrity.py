"""Survey integrity: flags with their evidence and review, per-point state, the sweep's mark.

``response_flags`` explains every bit of ``Response.flags``: one row per (response, code) with
its strength, the evidence that raised it (JSON) and its review. Rows are never deleted; a
reviewer confirms or clears them. ``point_activity_hourly`` is the small rolling state the
integrity sweep keeps per point (responses and satisfaction per hour), from which a point's
own history, its channel's norm and the city's hours of the day are read without scanning
responses. ``integrity_state`` holds the sweep's watermark (the last response id it
examined) and its lease. ``point_windows`` holds a point's optional collection window.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk

if TYPE_CHECKING:
    from survey.models.user import User

#: Strength of a flag: a strong flag excludes its response from estimates until cleared.
STRENGTHS: tuple[str, ...] = ("weak", "strong")
#: Review status of a flag.
REVIEW_STATUSES: tuple[str, ...] = ("unreviewed", "confirmed", "cleared")
REVIEW_NAMES: dict[str, str] = {
    "unreviewed": "待复核",
    "confirmed": "已确认异常",
    "cleared": "已排除嫌疑",
}
#: A list filter, not a status: flags whose clearing waits for a city-level reviewer.
CLEAR_PROPOSED = "clear_proposed"
CLEAR_PROPOSED_NAME = "排除申请待市级确认"


class ResponseFlag(Base):
    """One quality flag of one response: code, strength, evidence and review."""

    __tablename__ = "response_flags"
    __table_args__ = (
        UniqueConstraint("response_id", "code"),
        Index("ix_response_flags_point_code", "point_id", "code"),
        Index("ix_response_flags_code_status", "code", "status"),
    )

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    # Denormalised from the response, for the quality page's per-point ranking.
    point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_points.id"))
    code: Mapped[str] = mapped_column(String(24))
    strength: Mapped[str] = mapped_column(String(8))
    # JSON: counts, times, the matched pattern (never an address or a device id).
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(12), default="unreviewed")
    created_at: Mapped[created_ts]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None]
    # Two-person rule (issue 23): a district officer's clearing of a flag that keeps its
    # response out of estimates is only proposed here until a city admin confirms it.
    clear_proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    clear_proposed_at: Mapped[dt.datetime | None]
    clear_proposed_by: Mapped[User | None] = relationship(foreign_keys=[clear_proposed_by_id])


class PointHourly(Base):
    """Responses at a point in one hour (hours since the Unix epoch, UTC), with satisfaction.

    Counts responses that counted in estimates when the sweep examined them, so that an
    attack it caught does not raise the point's own norm for the next one.
    """

    __tablename__ = "point_activity_hourly"

    point_id: Mapped[int] = mapped_column(ForeignKey("collection_points.id"), primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    responses: Mapped[int] = mapped_column(default=0)
    satisfaction_n: Mapped[int] = mapped_column(default=0)
    satisfaction_sum: Mapped[float] = mapped_column(default=0.0)


class IntegrityState(Base):
    """The sweep's watermark and lease (one row, id 1), its last failure and staff's request.

    ``swept_at`` is the last sweep that succeeded; ``failed_at`` and ``failure`` (the cause,
    in one line) the last that failed, cleared by the next success; ``requested_at`` when a
    member of staff last asked for a sweep now (the background sweep picks it up).
    """

    __tablename__ = "integrity_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    watermark: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None]
    swept_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    failure: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[dt.datetime | None]


class PointWindow(Base):
    """When a point is meant to collect: dates and daily local hours, each optional."""

    __tablename__ = "point_windows"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("collection_points.id"), primary_key=True, autoincrement=False
    )
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    # Minutes after local midnight; a window may run past midnight (start > end).
    daily_start: Mapped[int | None]
    daily_end: Mapped[int | None]
    updated_at: Mapped[created_ts]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
