"""Contact attempts of a mock assessment, each with its AAPOR final disposition.

Every visit, intercept or call is one row, written from the interviewer's device with the
UUID the device gave it (a retried sync finds it stored and writes nothing). A completed or
partial interview links to its response (``responses.form_instance`` carries the same
UUID). Never the resident's identity: no name, address or phone number is stored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk

#: Disposition codes (AAPOR Standard Definitions) with their Chinese names.
DISPOSITIONS: dict[str, tuple[str, str]] = {
    "complete": ("1.1", "完成访问"),
    "partial": ("1.2", "部分完成"),
    "refusal": ("2.1", "拒访/中断"),
    "non_contact": ("2.2", "未接触到"),
    "other": ("2.3", "其他（合格未访）"),
    "unknown": ("3.0", "资格不明"),
    "not_eligible": ("4.0", "不合格"),
}
#: Dispositions that carry an interview (a stored response).
INTERVIEW_DISPOSITIONS = frozenset({"complete", "partial"})


class ContactAttempt(Base):
    """One contact attempt (door, intercept or call) and its outcome."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        Index("ix_contact_attempts_interviewer_at", "interviewer_id", "attempted_at"),
    )

    id: Mapped[intpk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("plan_units.id"), index=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str] = mapped_column(String(16))
    attempted_at: Mapped[dt.datetime]
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[created_ts]
