"""Hardening two: a proposed clearing of a flag waits for a city-level reviewer.

``response_flags`` gains who proposed to clear a flag and when (issue 23, item 6): a district
officer cannot clear alone a flag that keeps a response out of estimates (a strong flag, or a
confirmed one); the proposal is stored on the flag, the response stays excluded, and a city
admin confirms (clears) or rejects it. Both people are in the audit log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clear_proposed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("clear_proposed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_response_flags_clear_proposed_by_id_users"),
            "users",
            ["clear_proposed_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_response_flags_clear_proposed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("clear_proposed_at")
        batch_op.drop_column("clear_proposed_by_id")
