"""responses: drop five indexes that no query needs and every resident's INSERT pays for

``ix_responses_point_id`` is a prefix of ``ix_responses_point_submitted``; the
``(questionnaire_version_id, region_id | channel_id | week_start | district_id)`` indexes
date from before reports read ``report_cells`` and the covering ``ix_responses_report``
(which keep the version off the index on purpose, ``survey.reporting.statement``), and no
other query leads with those pairs (``ix_responses_version_submitted`` still serves the
version's own lookups). Each index is one more B-tree page written and logged per response:
on SQLite the five cost about 0.25 ms of the 0.6 ms that storing a response takes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Dropped indexes and their columns (for the downgrade).
DROPPED = {
    "ix_responses_point_id": ["point_id"],
    "ix_responses_version_region": ["questionnaire_version_id", "region_id"],
    "ix_responses_version_channel": ["questionnaire_version_id", "channel_id"],
    "ix_responses_version_week": ["questionnaire_version_id", "week_start"],
    "ix_responses_version_district": ["questionnaire_version_id", "district_id"],
}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="responses")


def downgrade() -> None:
    for name, columns in DROPPED.items():
        op.create_index(name, "responses", columns)
