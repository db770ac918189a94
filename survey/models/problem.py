"""The rectification ledger (整改台账): problems found in the answers, with who fixes them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk
from survey.models.base import utcnow
from survey.models.region import Region

#: Status codes in their order, with the Chinese names staff see.
PROBLEM_STATUSES: dict[str, str] = {
    "open": "待整改",
    "in_progress": "整改中",
    "fixed": "已整改",
    "verified": "已复核",
}
#: Where a problem came from: a weak spot (a street x satisfaction item below the city) or
#: a cluster of residents' comments on one topic.
PROBLEM_KINDS: dict[str, str] = {"weak_spot": "薄弱环节", "topic": "群众意见"}


class Problem(Base):
    """One problem of the ledger, with the evidence that raised it.

    ``region`` is the area concerned (a street, community or district): only officers whose
    scope contains it see or change the problem. ``item`` is the satisfaction question key
    the problem concerns (a weak spot's item, or a topic's usual item), which "did it get
    better" follows before and after ``deadline``. ``evidence`` is JSON: the figures, the
    period and example comments (masked before they were stored).
    """

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_region_id", "region_id"),)

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    item: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()

    @property
    def status_name(self) -> str:
        """Chinese status."""
        return PROBLEM_STATUSES.get(self.status, self.status)

    @property
    def kind_name(self) -> str:
        """Chinese source of the problem."""
        return PROBLEM_KINDS.get(self.kind, self.kind)
