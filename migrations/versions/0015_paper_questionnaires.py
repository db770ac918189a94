"""paper questionnaires: import batches, double-entry mismatches, serial numbers per point

``paper_batches`` holds every import of typed-in paper questionnaires (one file, or the two
files of a double entry, whose parsed rows wait there until a reviewer settles every
mismatch); ``paper_mismatches`` the cells the two clerks typed differently and the reviewer's
decisions; ``paper_responses`` the serial number of each stored paper response, UNIQUE per
collection point, so that importing the same file twice stores nothing the second time. The
``responses`` table is unchanged (``source = 'paper'``): no new index on the residents' INSERT.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("double_entry", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("file_a", sa.String(length=200), nullable=False),
        sa.Column("file_b", sa.String(length=200), nullable=True),
        sa.Column("rows_a", sa.Text(), nullable=True),
        sa.Column("rows_b", sa.Text(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("compared_cells", sa.Integer(), nullable=False),
        sa.Column("mismatch_count", sa.Integer(), nullable=False),
        sa.Column("stored_count", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_paper_batches_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_versions.id"],
            name=op.f("fk_paper_batches_questionnaire_version_id_questionnaire_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_paper_batches_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_batches")),
    )
    op.create_table(
        "paper_mismatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=120), nullable=False),
        sa.Column("column", sa.String(length=80), nullable=False),
        sa.Column("heading", sa.String(length=300), nullable=False),
        sa.Column("value_a", sa.Text(), nullable=False),
        sa.Column("value_b", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["paper_batches.id"],
            name=op.f("fk_paper_mismatches_batch_id_paper_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_paper_mismatches_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_mismatches")),
    )
    with op.batch_alter_table("paper_mismatches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_mismatches_batch_id"), ["batch_id"], unique=False
        )
    op.create_table(
        "paper_responses",
        sa.Column("response_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["paper_batches.id"],
            name=op.f("fk_paper_responses_batch_id_paper_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["collection_points.id"],
            name=op.f("fk_paper_responses_point_id_collection_points"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_paper_responses_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_paper_responses")),
        sa.UniqueConstraint("point_id", "serial", name=op.f("uq_paper_responses_point_id")),
    )
    with op.batch_alter_table("paper_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_responses_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_responses_batch_id"))
    op.drop_table("paper_responses")
    with op.batch_alter_table("paper_mismatches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_mismatches_batch_id"))
    op.drop_table("paper_mismatches")
    op.drop_table("paper_batches")
