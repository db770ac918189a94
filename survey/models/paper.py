"""Paper questionnaires (纸质问卷): import batches, double-entry mismatches, serial numbers."""

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
from survey.models.questionnaire import QuestionnaireVersion

BATCH_STATUS_NAMES: dict[str, str] = {
    "review": "待核对",
    "stored": "已入库",
    "discarded": "已作废",
}


class PaperBatch(Base):
    """One import of typed-in paper questionnaires: a single file, or two (double entry).

    A double-entry batch keeps both clerks' parsed rows (JSON) until a reviewer has settled
    every mismatch and stored it; a stored batch keeps only its counts.
    """

    __tablename__ = "paper_batches"

    id: Mapped[intpk]
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    # The uploader's scope (None: the whole city); the batch is seen within that scope.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[created_ts]
    double_entry: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="review")
    file_a: Mapped[str] = mapped_column(String(200))
    file_b: Mapped[str | None] = mapped_column(String(200))
    rows_a: Mapped[str | None] = mapped_column(Text)
    rows_b: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(default=0)
    # Double entry: cells compared between the two files and how many differed.
    compared_cells: Mapped[int] = mapped_column(default=0)
    mismatch_count: Mapped[int] = mapped_column(default=0)
    stored_count: Mapped[int] = mapped_column(default=0)
    stored_at: Mapped[dt.datetime | None]

    version: Mapped[QuestionnaireVersion] = relationship()
    mismatches: Mapped[list[PaperMismatch]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="PaperMismatch.id"
    )

    @property
    def status_name(self) -> str:
        """Chinese status label."""
        return BATCH_STATUS_NAMES.get(self.status, self.status)

    @property
    def agreement(self) -> float | None:
        """Share of compared cells the two clerks typed alike (None: nothing compared)."""
        if not self.compared_cells:
            return None
        return 1.0 - self.mismatch_count / self.compared_cells


class PaperMismatch(Base):
    """One cell the two clerks typed differently, and the reviewer's decision."""

    __tablename__ = "paper_mismatches"

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("paper_batches.id", ondelete="CASCADE"), index=True
    )
    serial: Mapped[str] = mapped_column(String(40))
    # Row key within the batch (serial, or point and serial when serials repeat).
    row_key: Mapped[str] = mapped_column(String(120))
    # Template column key ("volunteered", "aware_report:hotline", "date", ...; "*": the row).
    column: Mapped[str] = mapped_column(String(80))
    heading: Mapped[str] = mapped_column(String(300))
    value_a: Mapped[str] = mapped_column(Text, default="")
    value_b: Mapped[str] = mapped_column(Text, default="")
    # "a", "b" or "value" (the reviewer typed ``value``); None until settled.
    decision: Mapped[str | None] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]

    batch: Mapped[PaperBatch] = relationship(back_populates="mismatches")

    @property
    def settled_value(self) -> str | None:
        """The value the reviewer settled on (None: not settled yet)."""
        if self.decision == "a":
            return self.value_a
        if self.decision == "b":
            return self.value_b
        if self.decision == "value":
            return self.value or ""
        return None


class PaperResponse(Base):
    """A stored response typed in from paper: its serial number, unique per point."""

    __tablename__ = "paper_responses"
    __table_args__ = (UniqueConstraint("point_id", "serial"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    point_id: Mapped[int] = mapped_column(ForeignKey("collection_points.id"))
    serial: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[int] = mapped_column(ForeignKey("paper_batches.id"), index=True)
