"""Sufficient statistics of the responses per report cell, kept by the database itself.

**Who keeps this table:** the database triggers ``report_cells_insert``/``_delete``/``_update``
(SQLite) and ``report_cells_track`` (PostgreSQL) on ``responses``, created by migration 0007,
keyed on the exclusion bit by 0009 and on ``source`` by 0011
(``migrations/versions/0011_answer_cells.py``). No application code writes it, except
``survey cells rebuild`` (:mod:`survey.reporting.cell_rebuild`), which recomputes it from the
responses. Tests: ``tests/survey/reporting/test_report_cells.py`` and
``tests/survey/reporting/test_answer_cells.py`` (both databases).

A week-based report needs, per (questionnaire, week, district, point, region, channel, age
group, sex, source, exclusion, version), the count and, per metric, the count of answers,
their sum and their sum of squares: exactly what a ``GROUP BY`` over ``responses`` returns.
This table holds those sums. Database triggers (migration 0007, on SQLite and PostgreSQL) add a
response's values when it is inserted, move them when its flags or any key change and
remove them when it is deleted, so every path that writes responses (the resident form,
imports, the integrity sweep, flag review, bulk loads) keeps it exact, and a report reads a
few thousand cells instead of every response (``survey.reporting.statement``).

``flags`` holds only a response's ``QualityFlag.EXCLUDED`` bit (migration 0009), the one
flag a report tells responses apart by: responses with other flags share their key's cell,
so a report reads one cell per key and exclusion (half as many cells as per flag set, where
a few responses are flagged ``TOO_FAST``), and the report conditions on ``flags`` hold as on
the responses.

Key columns are never NULL (a primary key cannot match NULLs): no point, district or
channel is stored as 0 and no age group or sex as ``''``; the report statement maps them
back. Cells whose count falls to 0 stay (harmless; the statement skips them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base

#: The cell's key columns, in primary-key order (the order a report seeks and groups in).
CELL_KEYS: tuple[str, ...] = (
    "questionnaire_id",
    "week_start",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "age_group",
    "sex",
    "source",
    "flags",
    "questionnaire_version_id",
)
#: Metrics whose count, sum and sum of squares a cell holds.
CELL_METRICS: tuple[str, ...] = ("awareness", "participation", "satisfaction", "satisfaction_score")
#: What a missing key is stored as.
NO_ID = 0
NO_CODE = ""


#: A key column of a cell: in the primary key, before the value columns (``sort_order``).
_KEY: dict[str, Any] = {"primary_key": True, "sort_order": -1}
_ID_KEY: dict[str, Any] = {**_KEY, "autoincrement": False}


class CellKey:
    """The key columns of a report cell (:data:`CELL_KEYS`, in that order), shared by
    ``report_cells`` and ``answer_cells`` (``sort_order=-1``: the key columns come first)."""

    questionnaire_id: Mapped[int] = mapped_column(**_ID_KEY)
    week_start: Mapped[dt.date] = mapped_column(Date, **_KEY)
    district_id: Mapped[int] = mapped_column(**_ID_KEY)
    point_id: Mapped[int] = mapped_column(**_ID_KEY)
    region_id: Mapped[int] = mapped_column(**_ID_KEY)
    channel_id: Mapped[int] = mapped_column(**_ID_KEY)
    age_group: Mapped[str] = mapped_column(String(16), **_KEY)
    sex: Mapped[str] = mapped_column(String(16), **_KEY)
    #: ``Response.source`` (qr, paper, door_to_door, intercept, phone); migration 0011.
    source: Mapped[str] = mapped_column(String(16), **_KEY)
    #: ``Response.flags & QualityFlag.EXCLUDED``.
    flags: Mapped[int] = mapped_column(**_ID_KEY)
    questionnaire_version_id: Mapped[int] = mapped_column(**_ID_KEY)


class ReportCell(CellKey, Base):
    """One cell of :data:`CELL_KEYS` and the sums of its responses."""

    __tablename__ = "report_cells"
    __table_args__ = ({"sqlite_with_rowid": False},)

    n: Mapped[int] = mapped_column(default=0)
    awareness_n: Mapped[int] = mapped_column(default=0)
    awareness_sum: Mapped[float] = mapped_column(default=0.0)
    awareness_sum2: Mapped[float] = mapped_column(default=0.0)
    participation_n: Mapped[int] = mapped_column(default=0)
    participation_sum: Mapped[float] = mapped_column(default=0.0)
    participation_sum2: Mapped[float] = mapped_column(default=0.0)
    satisfaction_n: Mapped[int] = mapped_column(default=0)
    satisfaction_sum: Mapped[float] = mapped_column(default=0.0)
    satisfaction_sum2: Mapped[float] = mapped_column(default=0.0)
    satisfaction_score_n: Mapped[int] = mapped_column(default=0)
    satisfaction_score_sum: Mapped[float] = mapped_column(default=0.0)
    satisfaction_score_sum2: Mapped[float] = mapped_column(default=0.0)
