"""Targets per questionnaire and metric (e.g. awareness >= 90%), set by the city admin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.base import intpk
from survey.models.base import utcnow

#: Metrics a target can be set for, and the scale of their thresholds.
TARGET_METRICS: dict[str, tuple[float, float]] = {
    "awareness": (0.0, 1.0),
    "participation": (0.0, 1.0),
    "satisfaction": (0.0, 1.0),
    "satisfaction_score": (0.0, 100.0),
}


class Target(Base):
    """The threshold a metric must reach: a rate in [0, 1] or a score in [0, 100]."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("questionnaire_id", "metric"),)

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    metric: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Target {self.questionnaire_id} {self.metric} {self.threshold}>"
