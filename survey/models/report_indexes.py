"""Indexes that serve the reports' ``GROUP BY`` (declared here, next to no model, so the
response model stays as it is; they attach to the ``responses`` table on import).

``ix_responses_report`` covers every column a report reads, the week first (a report reads a
period: both databases seek to it) and then the other grouping keys in the order of the
report's ``GROUP BY``: SQLite aggregates in index order without sorting, PostgreSQL
aggregates a parallel index-only scan; a district filter seeks per week on SQLite
(``week_start IN (...) AND district_id = ?``).
``ix_responses_flagged`` is partial (flagged responses only, a few per cent), so counting the
responses a report leaves out costs next to nothing.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlalchemy import text

from survey.models.report_cell import CELL_KEYS
from survey.models.report_cell import CELL_METRICS
from survey.models.response import Response

#: The cells' keys (the same order) but ``source`` (a source filter is rare on the day-based
#: reports that read this index; the week-based ones read the cells, keyed on it), the
#: submission time, then the metrics.
REPORT_INDEX_COLUMNS: tuple[str, ...] = (
    *(c for c in CELL_KEYS if c != "source"),
    "submitted_at",
    *CELL_METRICS,
)
FLAGGED_INDEX_COLUMNS: tuple[str, ...] = (
    *CELL_KEYS[:6],  # questionnaire, week, district, point, region, channel
    "flags",
    "questionnaire_version_id",
    "submitted_at",
)

report_index = Index("ix_responses_report", *(getattr(Response, c) for c in REPORT_INDEX_COLUMNS))
flagged_index = Index(
    "ix_responses_flagged",
    *(getattr(Response, c) for c in FLAGGED_INDEX_COLUMNS),
    sqlite_where=text("flags <> 0"),
    postgresql_where=text("flags <> 0"),
)
