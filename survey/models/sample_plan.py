"""Mock assessments (模拟测评): sample plans, their strata, drawn communities and quotas.

A plan draws communities (社区/村) per district with probability proportional to size from a
recorded seed (``analysis.pps_systematic``) and stores every drawn unit's inclusion
probability: the estimates' base weights come from it. Quotas by age group × sex follow the
stored population counts of the plan's districts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk
from survey.models.region import Region

#: How a plan's interviews are made (``responses.source`` of its interviews).
FIELD_MODES: dict[str, str] = {
    "door_to_door": "入户访问",
    "intercept": "拦截访问",
    "phone": "电话访问",
}


class SamplePlan(Base):
    """A mock assessment's sample plan (抽样方案) for one questionnaire version and period."""

    __tablename__ = "sample_plans"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    # The region the plan covers (its districts are the strata); scopes who may see it.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    seed: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(16), default="door_to_door")
    interviews_per_unit: Mapped[int]
    created_at: Mapped[created_ts]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    region: Mapped[Region] = relationship()
    units: Mapped[list[PlanUnit]] = relationship(
        back_populates="plan", order_by="PlanUnit.id", cascade="all, delete-orphan"
    )
    strata: Mapped[list[PlanStratum]] = relationship(
        order_by="PlanStratum.id", cascade="all, delete-orphan"
    )
    quotas: Mapped[list[PlanQuota]] = relationship(
        order_by="PlanQuota.id", cascade="all, delete-orphan"
    )


class PlanStratum(Base):
    """One stratum (district) of a plan: the frame it was drawn from and how many units."""

    __tablename__ = "plan_strata"
    __table_args__ = (UniqueConstraint("plan_id", "district_id"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("sample_plans.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    units_drawn: Mapped[int]
    frame_units: Mapped[int]
    frame_size: Mapped[float]

    district: Mapped[Region] = relationship()


class PlanUnit(Base):
    """A drawn community: its measure of size, inclusion probability and interviews."""

    __tablename__ = "plan_units"
    __table_args__ = (UniqueConstraint("plan_id", "community_id"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("sample_plans.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    size: Mapped[float]
    probability: Mapped[float]
    certainty: Mapped[bool] = mapped_column(default=False)
    interviews: Mapped[int]

    plan: Mapped[SamplePlan] = relationship(back_populates="units")
    district: Mapped[Region] = relationship(foreign_keys=[district_id])
    community: Mapped[Region] = relationship(foreign_keys=[community_id])
    assignments: Mapped[list[InterviewerAssignment]] = relationship(
        back_populates="unit", cascade="all, delete-orphan"
    )


class PlanQuota(Base):
    """Interviews wanted per district × age group × sex (from the population counts)."""

    __tablename__ = "plan_quotas"
    __table_args__ = (UniqueConstraint("plan_id", "district_id", "age_group", "sex"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("sample_plans.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    age_group: Mapped[str] = mapped_column(String(16))
    sex: Mapped[str] = mapped_column(String(16))
    target: Mapped[int]


class InterviewerAssignment(Base):
    """An interviewer's share of a drawn community: they may interview there, and only there."""

    __tablename__ = "interviewer_assignments"
    __table_args__ = (UniqueConstraint("unit_id", "interviewer_id"),)

    id: Mapped[intpk]
    unit_id: Mapped[int] = mapped_column(ForeignKey("plan_units.id", ondelete="CASCADE"))
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    target: Mapped[int]

    unit: Mapped[PlanUnit] = relationship(back_populates="assignments")
