"""answers: one covering index (response, question, value) instead of two

Question statistics, cross-tabulation and the free-text list read the answers of the
responses in a report's period. With ``ix_answers_question_value`` SQLite started from the
answers of a question in every week and looked each response up by id, reading two thirds
of them only to drop them; with the covering ``(response_id, question_key, value)`` it seeks
the period on ``ix_responses_report`` and reads each response's answers from the index
alone (question statistics at 100k responses: 2.4 s -> 1.6 s). The index also serves what
``ix_answers_response_id`` did (the foreign key, the raw export, the integrity sweep), so a
stored response writes one index entry per answer instead of two.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_answers_response_question", "answers", ["response_id", "question_key", "value"]
    )
    op.drop_index("ix_answers_question_value", table_name="answers")
    op.drop_index("ix_answers_response_id", table_name="answers")


def downgrade() -> None:
    op.create_index("ix_answers_response_id", "answers", ["response_id"])
    op.create_index("ix_answers_question_value", "answers", ["question_key", "value"])
    op.drop_index("ix_answers_response_question", table_name="answers")
