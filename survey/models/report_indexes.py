"""Indexes that serve the reports' ``GROUP BY`` (declared here, next to no model, so the
response model stays as it is; they attach to the ``responses`` table on import).

``ix_responses_report`` covers every column a report reads, in the order of its grouping
keys: SQLite then aggregates in index order without sorting a million rows, and PostgreSQL can
aggregate an index-only scan; a district filter seeks on its second column.
``ix_responses_flagged`` is partial (flagged responses only, a few per cent), so counting the
responses a report leaves out costs next to nothing.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlalchemy import text

from survey.models.response import Response

REPORT_INDEX_COLUMNS: tuple[str, ...] = (
    "questionnaire_id",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "week_start",
    "age_group",
    "sex",
    "flags",
    "questionnaire_version_id",
    "submitted_at",
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)
FLAGGED_INDEX_COLUMNS: tuple[str, ...] = (
    "questionnaire_id",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "week_start",
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
