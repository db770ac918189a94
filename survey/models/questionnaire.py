"""Questionnaires and their immutable versions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk

STATUS_NAMES: dict[str, str] = {"draft": "草稿", "open": "收集中", "closed": "已关闭"}


class Questionnaire(Base):
    """A questionnaire identified by its definition key; content lives in versions."""

    __tablename__ = "questionnaires"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[created_ts]

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.version"
    )


class QuestionnaireVersion(Base):
    """One version of a definition. A version with responses is never changed."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="open")
    title: Mapped[str] = mapped_column(String(200))
    source_toml: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_ts]
    closed_at: Mapped[dt.datetime | None]

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")

    @property
    def status_name(self) -> str:
        """Chinese status label."""
        return STATUS_NAMES.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<QuestionnaireVersion {self.questionnaire_id} v{self.version}>"
