"""hardening: per-user session token (issue 13)

Every staff session cookie carries the account's session token; replacing the token ends
every session of that account. Existing accounts get an empty token, which no cookie can
match: everyone signs in again once after this migration, and sign-in sets a token.

Revision ID: 0004
Revises: 0001 (to be re-chained after 0002/0003 when the branches are merged)
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_token", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
