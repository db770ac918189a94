"""Population counts by region × age group × sex, the targets of weighting."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.base import intpk


class PopulationCount(Base):
    """Resident count of one weighting cell (e.g. a district, age 30-39, female)."""

    __tablename__ = "population_counts"
    __table_args__ = (UniqueConstraint("region_id", "age_group", "sex"),)

    id: Mapped[intpk]
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    age_group: Mapped[str] = mapped_column(String(16))
    sex: Mapped[str] = mapped_column(String(16))
    count: Mapped[int]
