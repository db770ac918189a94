"""integrity: response flags with evidence and review, per-point hourly state, the sweep's
watermark, point collection windows, network and browser hashes on responses

Revision ID: 0003
Revises: 0001 (re-chained after 0002 when the reporting branch is merged)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: ``QualityFlag.EXCLUDED`` and ``QualityFlag.TOO_FAST`` (survey/models/response.py).
EXCLUDED = 1 << 30
TOO_FAST = 1


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("network_hash", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("agent_hash", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_responses_point_submitted", ["point_id", "submitted_at"], unique=False
        )
    op.create_table(
        "response_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("strength", sa.String(length=8), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["collection_points.id"],
            name=op.f("fk_response_flags_point_id_collection_points"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_flags_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_response_flags_reviewed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_flags")),
        sa.UniqueConstraint("response_id", "code", name=op.f("uq_response_flags_response_id")),
    )
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.create_index("ix_response_flags_code_status", ["code", "status"], unique=False)
        batch_op.create_index("ix_response_flags_point_code", ["point_id", "code"], unique=False)
    op.create_table(
        "point_activity_hourly",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("satisfaction_n", sa.Integer(), nullable=False),
        sa.Column("satisfaction_sum", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["collection_points.id"],
            name=op.f("fk_point_activity_hourly_point_id_collection_points"),
        ),
        sa.PrimaryKeyConstraint("point_id", "hour", name=op.f("pk_point_activity_hourly")),
    )
    op.create_table(
        "integrity_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_state")),
    )
    op.create_table(
        "point_windows",
        sa.Column("point_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("daily_start", sa.Integer(), nullable=True),
        sa.Column("daily_end", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["collection_points.id"],
            name=op.f("fk_point_windows_point_id_collection_points"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_point_windows_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("point_id", name=op.f("pk_point_windows")),
    )
    # Responses stored before this revision: a TOO_FAST response was left out of nothing;
    # from now on a strong flag excludes it (the sweep then writes its evidence row).
    op.execute(
        sa.text(f"UPDATE responses SET flags = flags | {EXCLUDED} WHERE (flags & {TOO_FAST}) <> 0")
    )


def downgrade() -> None:
    op.execute(sa.text(f"UPDATE responses SET flags = flags & {EXCLUDED - 1}"))
    op.drop_table("point_windows")
    op.drop_table("integrity_state")
    op.drop_table("point_activity_hourly")
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_response_flags_point_code")
        batch_op.drop_index("ix_response_flags_code_status")
    op.drop_table("response_flags")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_point_submitted")
        batch_op.drop_column("agent_hash")
        batch_op.drop_column("network_hash")
