"""Collection points (点位) behind QR codes, and their daily scan counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk
from survey.models.base import utcnow
from survey.models.channel import Channel
from survey.models.questionnaire import QuestionnaireVersion
from survey.models.region import Region


def is_past(moment: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """True when the optional ``moment`` (an expiry time) has passed."""
    return moment is not None and (now or utcnow()) >= moment


class CollectionPoint(Base):
    """A place or push inside a region, tagged with a channel; its code is the QR link."""

    __tablename__ = "collection_points"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    questionnaire_version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_versions.id"), index=True
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_ts]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    region: Mapped[Region] = relationship()
    channel: Mapped[Channel] = relationship()

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        """True once the optional expiry time has passed."""
        return is_past(self.expires_at, now)

    def __repr__(self) -> str:
        return f"<CollectionPoint {self.code}>"


class PointScanDaily(Base):
    """Scans per point per day, upserted (one row per point and day, not one per view)."""

    __tablename__ = "point_scans_daily"

    point_id: Mapped[int] = mapped_column(ForeignKey("collection_points.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    scans: Mapped[int] = mapped_column(default=0)
