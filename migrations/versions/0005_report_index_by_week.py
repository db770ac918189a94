"""reporting: the covering indexes of the report GROUP BY lead with the week

A report reads a period: with ``week_start`` right after the questionnaire both databases
seek to the period's rows instead of reading every response of the questionnaire (at 1M
responses over 12 weeks, a 4-week report against the 4 weeks before read 1M index entries
to keep 0.57M). SQLite still aggregates in index order (the GROUP BY follows the index), a
district filter seeks per week (``week_start IN (...) AND district_id = ?``), and PostgreSQL
reads a parallel index-only scan of the period.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

METRICS = ["awareness", "participation", "satisfaction", "satisfaction_score"]
REPORT_COLUMNS = [
    "questionnaire_id",
    "week_start",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "age_group",
    "sex",
    "flags",
    "questionnaire_version_id",
    "submitted_at",
    *METRICS,
]
FLAGGED_COLUMNS = [
    "questionnaire_id",
    "week_start",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "flags",
    "questionnaire_version_id",
    "submitted_at",
]
OLD_REPORT_COLUMNS = [
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
    *METRICS,
]
OLD_FLAGGED_COLUMNS = [
    "questionnaire_id",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "week_start",
    "flags",
    "questionnaire_version_id",
    "submitted_at",
]


def _create(report: list[str], flagged: list[str]) -> None:
    op.create_index("ix_responses_report", "responses", report, unique=False)
    op.create_index(
        "ix_responses_flagged",
        "responses",
        flagged,
        unique=False,
        sqlite_where=sa.text("flags <> 0"),
        postgresql_where=sa.text("flags <> 0"),
    )


def _drop() -> None:
    op.drop_index("ix_responses_flagged", table_name="responses")
    op.drop_index("ix_responses_report", table_name="responses")


def upgrade() -> None:
    _drop()
    _create(REPORT_COLUMNS, FLAGGED_COLUMNS)


def downgrade() -> None:
    _drop()
    _create(OLD_REPORT_COLUMNS, OLD_FLAGGED_COLUMNS)
