"""City-wide estimate settings set by the city admin (one row; absent: the config's values)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.base import intpk
from survey.models.base import utcnow


class EstimateSettings(Base):
    """``min_cell_n``: a post-stratification cell with fewer respondents is merged with a
    neighbour (issue 24); the staff targets page sets it, ``SURVEY_MIN_CELL_N`` is the default."""

    __tablename__ = "estimate_settings"

    id: Mapped[intpk]
    min_cell_n: Mapped[int]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<EstimateSettings min_cell_n={self.min_cell_n}>"
