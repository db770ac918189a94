"""Reserved for issue 21 (integrity served); a no-op until that work lands.

Revision numbers 0010-0016 were reserved at once so that work on several issues in parallel
keeps one linear chain; each issue's work replaces the body of its own file.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
