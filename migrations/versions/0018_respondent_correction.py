"""answer_cells: the question row holds respondents minus option answers, written only when not 0

Migration 0011's question row (``value = ''``) counted the respondents who answered a
question, so every first answer to a question wrote two cells: its option and the question
row. For a single-choice question the two counts are the same, and a resident's ~25 answers
paid ~25 upserts for nothing (0.1 ms of the 0.24 ms the triggers add to a response on
SQLite). The question row now holds the *correction*: respondents who answered the question
minus the answer rows with an option value, so that

    respondents(question, cell) = sum of n over all the question's rows in the cell

(options and correction). An answer changes the correction by [first answer of the response
to the question] - [has an option value]: 0 for a single-choice answer (no write), -1 for a
multiple-choice question's second and later ticks, +1 for a free-text or number answer.
Deletes undo it ([last] - [has a value]), a ``value`` update moves it by [had a value] -
[has a value], and moving a response (flag review, key change) moves 1 - (option answers)
per question it answered. The table is rebuilt from the answers with the new meaning.

PostgreSQL's trigger functions keep ``enable_seqscan = off`` (migration 0017). See
``survey.models.answer_cell``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _migration(name: str) -> ModuleType:
    """An earlier migration's module (its file name is not importable)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(path.stem.replace("0", "m", 1), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M = _migration("0011_answer_cells.py")
VALUED = "({a}.value IS NOT NULL AND {a}.value <> '')"


def _correction(row: str, first: str, sign: str) -> str:
    """Upsert of one answer row's correction ``sign * ([first] - [valued])``: written only
    when the two differ (SQLite row trigger and PostgreSQL function body alike)."""
    keys = M._keys("r")
    valued = VALUED.format(a=row)
    delta = f"{sign} * (CASE WHEN {valued} THEN -1 ELSE 1 END)"
    return M._answer_upsert(
        f"SELECT {', '.join(keys)}, {row}.question_key, '', {delta} FROM responses r "
        f"WHERE r.id = {row}.response_id AND (CASE WHEN {first} THEN 1 ELSE 0 END) "
        f"<> (CASE WHEN {valued} THEN 1 ELSE 0 END)"
    )


def _value_moved() -> str:
    """An update of ``value``: the correction moves by [had a value] - [has a value]."""
    keys = M._keys("r")
    old, new = VALUED.format(a="OLD"), VALUED.format(a="NEW")
    return M._answer_upsert(
        f"SELECT {', '.join(keys)}, NEW.question_key, '', "
        f"(CASE WHEN {old} THEN 1 ELSE 0 END) - (CASE WHEN {new} THEN 1 ELSE 0 END) "
        f"FROM responses r WHERE r.id = NEW.response_id AND ({old}) <> ({new})"
    )


def _questions_of(row: str, sign: str) -> str:
    """A response's corrections (1 - its option answers, per question it answered)."""
    keys = M._keys(row)
    valued = VALUED.format(a="a")
    correction = f"count(DISTINCT a.response_id) - sum(CASE WHEN {valued} THEN 1 ELSE 0 END)"
    return M._answer_upsert(
        f"SELECT {', '.join(keys)}, a.question_key, '', {sign} * ({correction}) "
        f"FROM answers a WHERE a.response_id = {row}.id "
        f"GROUP BY {', '.join(keys)}, a.question_key HAVING {correction} <> 0 "
        "ORDER BY a.question_key"
    )


def _response_moves(row: str, sign: str) -> list[str]:
    answers, where = "answers a", f"a.response_id = {row}.id"
    return [M._options_of(row, sign, answers, where), _questions_of(row, sign)]


def _options(row: str, sign: str) -> str:
    return M._one_answer(row, sign, f"{row}.value", M.ANSWERED.format(a=row))


def _sqlite_triggers() -> list[str]:
    insert = f"{_options('NEW', '1')}; {_correction('NEW', M.FIRST, '1')}"
    delete = f"{_options('OLD', '-1')}; {_correction('OLD', M.LAST, '-1')}"
    update = f"{_options('OLD', '-1')}; {_options('NEW', '1')}; {_value_moved()}"
    return [
        f"CREATE TRIGGER answer_cells_insert AFTER INSERT ON answers BEGIN {insert}; END",
        f"CREATE TRIGGER answer_cells_delete AFTER DELETE ON answers BEGIN {delete}; END",
        f"CREATE TRIGGER answer_cells_update AFTER UPDATE OF value ON answers BEGIN {update}; END",
        *M._sqlite_response_triggers(_response_moves),
    ]


def _replaceable(function: str) -> str:
    """0011's ``CREATE FUNCTION`` as ``CREATE OR REPLACE`` (the triggers keep pointing at
    it), with 0017's ``enable_seqscan = off``."""
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        "LANGUAGE plpgsql AS", "LANGUAGE plpgsql SET enable_seqscan = off AS", 1
    )


def _pg_function(name: str, body: list[str], returns: str = "NULL") -> str:
    return _replaceable(M._pg_function(name, body, returns))


def _postgres_functions() -> list[str]:
    return [
        _pg_function(
            "answer_cells_insert", [_options("NEW", "1"), _correction("NEW", M.FIRST, "1")], "NEW"
        ),
        _pg_function(
            "answer_cells_delete", [_options("OLD", "-1"), _correction("OLD", M.LAST, "-1")], "OLD"
        ),
        _pg_function(
            "answer_cells_update", [_options("OLD", "-1"), _options("NEW", "1"), _value_moved()]
        ),
        _pg_function("answer_cells_response_delete", _response_moves("OLD", "-1"), "OLD"),
        _pg_function(
            "answer_cells_response_update",
            [
                f"IF NOT ({M._changed('IS DISTINCT FROM')}) THEN RETURN NULL; END IF",
                *_response_moves("OLD", "-1"),
                *_response_moves("NEW", "1"),
            ],
        ),
    ]


def _backfill() -> list[str]:
    rows = "answers a JOIN responses r ON r.id = a.response_id"
    keys = ", ".join(M._keys("r"))
    columns = ", ".join((*M.ANSWER_KEYS, "n"))
    valued = VALUED.format(a="a")
    correction = f"count(DISTINCT a.response_id) - sum(CASE WHEN {valued} THEN 1 ELSE 0 END)"
    return [
        "DELETE FROM answer_cells",
        f"INSERT INTO answer_cells ({columns}) SELECT {keys}, a.question_key, a.value, count(*) "
        f"FROM {rows} WHERE {M.ANSWERED.format(a='a')} GROUP BY {keys}, a.question_key, a.value",
        f"INSERT INTO answer_cells ({columns}) SELECT {keys}, a.question_key, '', {correction} "
        f"FROM {rows} GROUP BY {keys}, a.question_key HAVING {correction} <> 0",
    ]


def _sqlite_drop() -> None:
    for _, name in M.ANSWER_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_drop()
        statements = _sqlite_triggers()
    else:
        statements = _postgres_functions()
    for statement in (*statements, *_backfill()):
        op.execute(statement)


def downgrade() -> None:
    """Back to 0017: the question row counts respondents again."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_drop()
        statements = M._sqlite_answer_triggers()
    else:
        statements = [
            _replaceable(s)
            for s in M._postgres_answer_triggers()
            if s.startswith("CREATE FUNCTION")
        ]
    for statement in (*statements, "DELETE FROM answer_cells", *M._answer_backfill()):
        op.execute(statement)
