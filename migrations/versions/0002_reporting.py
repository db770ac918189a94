"""reporting: targets, and the indexes of the report GROUP BY

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REPORT_COLUMNS = [
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
]
FLAGGED_COLUMNS = [
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


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_targets_questionnaire_id_questionnaires"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_targets_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("questionnaire_id", "metric", name=op.f("uq_targets_questionnaire_id")),
    )
    op.create_index("ix_responses_report", "responses", REPORT_COLUMNS, unique=False)
    op.create_index(
        "ix_responses_flagged",
        "responses",
        FLAGGED_COLUMNS,
        unique=False,
        sqlite_where=sa.text("flags <> 0"),
        postgresql_where=sa.text("flags <> 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_responses_flagged", table_name="responses")
    op.drop_index("ix_responses_report", table_name="responses")
    op.drop_table("targets")
