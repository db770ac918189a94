"""answer_cells triggers on PostgreSQL: seek the answers by index whatever the statistics say

The answer-cell trigger functions (migration 0011) look up a response's other answers to a
question (``NOT EXISTS (... answers o WHERE o.response_id = ... AND o.question_key = ...)``)
and, when a response moves or goes, all its answers. PL/pgSQL plans those statements once
per session with the statistics of the moment. On a new database ``answers`` was analysed
empty, so the plan was a sequential scan of ``answers``, and every answer written in one
long transaction (a paper import, a bulk load) scanned all the answers written before it:
5,000 responses' 52,000 answers took 84 s instead of 3 s, growing with the square of the
rows. Each function now runs with ``enable_seqscan = off``, so the lookups use
``ix_answers_response_question`` and ``pk_responses`` however the table was last analysed.
SQLite's planner already seeks the index. See ``survey.models.answer_cell``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "answer_cells_insert",
    "answer_cells_delete",
    "answer_cells_update",
    "answer_cells_response_delete",
    "answer_cells_response_update",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name}() SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name}() RESET enable_seqscan")
