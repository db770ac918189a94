"""estimate settings (issue 24): the minimum post-stratification cell size, set by staff.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "estimate_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("min_cell_n", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_estimate_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimate_settings")),
    )


def downgrade() -> None:
    op.drop_table("estimate_settings")
