"""Integrity in the served app (issue 21): the sweep's last failure and staff's request.

``integrity_state`` gains ``failed_at`` and ``failure`` (the last failed sweep and its cause,
shown on the quality page until a sweep succeeds) and ``requested_at`` (a member of staff
asked for a sweep now; the background sweep picks it up).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrity_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrity_state", schema=None) as batch_op:
        batch_op.drop_column("requested_at")
        batch_op.drop_column("failure")
        batch_op.drop_column("failed_at")
