"""answer_cells (answer counts per report cell, kept by triggers); ``source`` in both keys

Question statistics grouped every answer of the period (1M responses, 4 weeks: 3.3M answer
rows, 29 s). ``answer_cells`` holds, per report cell (questionnaire, week, district, point,
region, channel, age group, sex, source, exclusion bit, version), question and option, the
number of answers with that option, and per question (``value = ''``) the number of
respondents who answered it. Triggers keep it exact on every write:

* ``answers``: insert adds, delete subtracts, an update of ``value`` moves the count (row
  triggers: one seek of the response and two upserts an answer; on PostgreSQL BEFORE INSERT
  and BEFORE DELETE, so a multi-row statement counts a response's first and last answer to
  a question once). The respondent row counts a response's first answer to a question.
* ``responses``: an update of a key (flag review flipping the ``EXCLUDED`` bit, the
  integrity sweep) moves the response's answers between cells; a delete subtracts them
  BEFORE the row goes (the cascaded answer deletes then find no response and add nothing).

``report_cells`` gains ``source`` (qr, paper, door_to_door, intercept, phone) in its key, so
reports can filter by how a response was collected; its triggers are rebuilt and both tables
are filled from the rows already stored. See ``survey.models.answer_cell`` and
``survey.models.report_cell``; ``survey cells rebuild`` recomputes both.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: ``QualityFlag.EXCLUDED`` (a migration does not import the application's models).
EXCLUDED = 1 << 30
CELL_KEYS = (
    "questionnaire_id",
    "week_start",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "age_group",
    "sex",
    "source",
    "flags",
    "questionnaire_version_id",
)
ANSWER_KEYS = (*CELL_KEYS, "question_key", "value")
METRICS = ("awareness", "participation", "satisfaction", "satisfaction_score")
VALUES = ("n", *(f"{m}_{part}" for m in METRICS for part in ("n", "sum", "sum2")))
MISSING = {
    "district_id": "0",
    "point_id": "0",
    "channel_id": "0",
    "age_group": "''",
    "sex": "''",
    "source": "''",
}
#: Response columns whose change moves a response (and its answers) to another cell.
TRACKED = ", ".join((*CELL_KEYS, *METRICS))
MOVED = CELL_KEYS


def _key(row: str, key: str) -> str:
    column = f"{row}.{key}"
    if key == "flags":
        return f"({column} & {EXCLUDED})"
    return f"coalesce({column}, {MISSING[key]})" if key in MISSING else column


def _keys(row: str) -> list[str]:
    return [_key(row, k) for k in CELL_KEYS]


# --- report_cells (as migrations 0007/0009, with source) ------------------------------------


def _report_values(row: str, sign: str, as_int: str) -> list[str]:
    out = [sign]
    for m in METRICS:
        column = f"{row}.{m}"
        out += [
            f"{sign} * {as_int.format(f'({column} IS NOT NULL)')}",
            f"{sign} * coalesce({column}, 0)",
            f"{sign} * coalesce({column} * {column}, 0)",
        ]
    return out


def _report_upsert(row: str, sign: str, as_int: str) -> str:
    add = ", ".join(f"{v} = report_cells.{v} + excluded.{v}" for v in VALUES)
    return (
        f"INSERT INTO report_cells ({', '.join((*CELL_KEYS, *VALUES))}) "
        f"VALUES ({', '.join((*_keys(row), *_report_values(row, sign, as_int)))}) "
        f"ON CONFLICT ({', '.join(CELL_KEYS)}) DO UPDATE SET {add}"
    )


def _report_triggers(sqlite: bool) -> list[str]:
    if sqlite:
        old, new = _report_upsert("OLD", "-1", "{}"), _report_upsert("NEW", "1", "{}")
        return [
            f"CREATE TRIGGER report_cells_insert AFTER INSERT ON responses BEGIN {new}; END",
            f"CREATE TRIGGER report_cells_delete AFTER DELETE ON responses BEGIN {old}; END",
            f"CREATE TRIGGER report_cells_update AFTER UPDATE OF {TRACKED} ON responses "
            f"BEGIN {old}; {new}; END",
        ]
    old = _report_upsert("OLD", "-1", "{}::integer")
    new = _report_upsert("NEW", "1", "{}::integer")
    # No column list and no WHEN on PostgreSQL: a column named in a trigger's definition
    # cannot change type (migration 0014 widens responses.source), so the function itself
    # skips updates that leave every tracked column as it was.
    same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in TRACKED.split(", "))
    return [
        "CREATE FUNCTION report_cells_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF; "
        f"IF TG_OP <> 'INSERT' THEN {old}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {new}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER report_cells_track AFTER INSERT OR DELETE OR UPDATE "
        "ON responses FOR EACH ROW EXECUTE FUNCTION report_cells_track()",
    ]


def _report_backfill() -> str:
    keys = _keys("responses")
    sums = ["count(*)"]
    for m in METRICS:
        sums += [f"count({m})", f"coalesce(sum({m}), 0)", f"coalesce(sum({m} * {m}), 0)"]
    return (
        f"INSERT INTO report_cells ({', '.join((*CELL_KEYS, *VALUES))}) "
        f"SELECT {', '.join((*keys, *sums))} FROM responses GROUP BY {', '.join(keys)}"
    )


def _report_table() -> None:
    id_key = {"nullable": False, "autoincrement": False}
    columns = [
        sa.Column("questionnaire_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("week_start", sa.Date(), primary_key=True, nullable=False),
        sa.Column("district_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("point_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("region_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("channel_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("age_group", sa.String(16), primary_key=True, nullable=False),
        sa.Column("sex", sa.String(16), primary_key=True, nullable=False),
        # As wide as responses.source here; migration 0014 widens both to 16.
        sa.Column("source", sa.String(10), primary_key=True, nullable=False),
        sa.Column("flags", sa.Integer(), primary_key=True, **id_key),
        sa.Column("questionnaire_version_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("n", sa.Integer(), nullable=False),
    ]
    for m in METRICS:
        columns += [
            sa.Column(f"{m}_n", sa.Integer(), nullable=False),
            sa.Column(f"{m}_sum", sa.Double(), nullable=False),
            sa.Column(f"{m}_sum2", sa.Double(), nullable=False),
        ]
    op.create_table(
        "report_cells",
        *columns,
        sa.PrimaryKeyConstraint(*CELL_KEYS, name=op.f("pk_report_cells")),
        sqlite_with_rowid=False,
    )


# --- answer_cells ----------------------------------------------------------------------------

ANSWERED = "{a}.value IS NOT NULL AND {a}.value <> ''"
#: ``value`` of a question's respondent row.
QUESTION = "''"


def _answer_upsert(select: str) -> str:
    return (
        f"INSERT INTO answer_cells ({', '.join((*ANSWER_KEYS, 'n'))}) {select} "
        f"ON CONFLICT ({', '.join(ANSWER_KEYS)}) DO UPDATE SET n = answer_cells.n + excluded.n"
    )


def _options_of(row: str, sign: str, answers: str, where: str) -> str:
    """Signed option counts of the answers ``answers`` (alias a) of response row ``row``."""
    keys = _keys(row)
    return _answer_upsert(
        f"SELECT {', '.join(keys)}, a.question_key, a.value, {sign} * count(*) FROM {answers} "
        f"WHERE {where} AND {ANSWERED.format(a='a')} "
        f"GROUP BY {', '.join(keys)}, a.question_key, a.value ORDER BY a.question_key, a.value"
    )


def _questions_of(row: str, sign: str, answers: str, where: str) -> str:
    """Signed respondent counts (one per response and question) of ``answers`` (alias a)."""
    keys = _keys(row)
    return _answer_upsert(
        f"SELECT {', '.join(keys)}, a.question_key, '', {sign} * count(DISTINCT a.response_id) "
        f"FROM {answers} WHERE {where} "
        f"GROUP BY {', '.join(keys)}, a.question_key ORDER BY a.question_key"
    )


def _response_moves(row: str, sign: str) -> list[str]:
    """A response's answers added to (``sign`` 1) or taken from (-1) its cells."""
    answers = "answers a"
    where = f"a.response_id = {row}.id"
    return [_options_of(row, sign, answers, where), _questions_of(row, sign, answers, where)]


def _first_answer(new: str, others: str) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM answers o WHERE o.response_id = {new}.response_id "
        f"AND o.question_key = {new}.question_key AND {others})"
    )


def _one_answer(row: str, sign: str, value: str, where: str) -> str:
    """Upsert of one answer row's count (SQLite row trigger): no GROUP BY, one seek."""
    keys = _keys("r")
    return _answer_upsert(
        f"SELECT {', '.join(keys)}, {row}.question_key, {value}, {sign} FROM responses r "
        f"WHERE r.id = {row}.response_id AND {where}"
    )


#: The response's first answer to the question (no other answer of it stored yet) and its
#: last (no other left): true in SQLite's AFTER row triggers and PostgreSQL's BEFORE row
#: triggers alike (a BEFORE trigger sees the rows its statement processed before this one).
FIRST = _first_answer("NEW", "o.id <> NEW.id")
LAST = _first_answer("OLD", "o.id <> OLD.id")


def _changed(distinct: str) -> str:
    """A key of the response changed (``distinct``: ``IS NOT`` or ``IS DISTINCT FROM``)."""
    changed = " OR ".join(f"OLD.{k} {distinct} NEW.{k}" for k in MOVED if k != "flags")
    return changed + f" OR (OLD.flags & {EXCLUDED}) <> (NEW.flags & {EXCLUDED})"


def _sqlite_response_triggers(moves: Callable[[str, str], list[str]]) -> list[str]:
    """The SQLite triggers on ``responses`` that move a response's answers with ``moves``
    (migration 0018 passes its own)."""
    return [
        "CREATE TRIGGER answer_cells_response_delete BEFORE DELETE ON responses BEGIN "
        + "; ".join(moves("OLD", "-1"))
        + "; END",
        f"CREATE TRIGGER answer_cells_response_update AFTER UPDATE OF {', '.join(MOVED)} "
        f"ON responses WHEN {_changed('IS NOT')} BEGIN "
        + "; ".join((*moves("OLD", "-1"), *moves("NEW", "1")))
        + "; END",
    ]


def _sqlite_answer_triggers() -> list[str]:
    first, last = FIRST, LAST
    new_option = _one_answer("NEW", "1", "NEW.value", ANSWERED.format(a="NEW"))
    old_option = _one_answer("OLD", "-1", "OLD.value", ANSWERED.format(a="OLD"))
    return [
        "CREATE TRIGGER answer_cells_insert AFTER INSERT ON answers BEGIN "
        f"{new_option}; {_one_answer('NEW', '1', QUESTION, first)}; END",
        "CREATE TRIGGER answer_cells_delete AFTER DELETE ON answers BEGIN "
        f"{old_option}; {_one_answer('OLD', '-1', QUESTION, last)}; END",
        "CREATE TRIGGER answer_cells_update AFTER UPDATE OF value ON answers BEGIN "
        f"{old_option}; {new_option}; END",
        *_sqlite_response_triggers(_response_moves),
    ]


def _pg_function(name: str, body: list[str], returns: str = "NULL") -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + " ".join(f"{s};" for s in body)
        + f" RETURN {returns}; END $$"
    )


def _postgres_answer_triggers() -> list[str]:
    """Row triggers as on SQLite, but BEFORE INSERT and BEFORE DELETE on answers, so that a
    multi-row statement counts a response's first (last) answer to a question once: a
    BEFORE row trigger sees the rows processed before it, not the ones after. (Statement
    triggers over transition tables were tried first: PostgreSQL planned their join to
    ``responses`` as a scan of every response, 20 ms an answer at 100k responses.)"""
    new_option = _one_answer("NEW", "1", "NEW.value", ANSWERED.format(a="NEW"))
    old_option = _one_answer("OLD", "-1", "OLD.value", ANSWERED.format(a="OLD"))
    row = "FOR EACH ROW EXECUTE FUNCTION"
    return [
        _pg_function(
            "answer_cells_insert",
            [new_option, _one_answer("NEW", "1", QUESTION, FIRST)],
            "NEW",
        ),
        _pg_function(
            "answer_cells_delete",
            [old_option, _one_answer("OLD", "-1", QUESTION, LAST)],
            "OLD",
        ),
        _pg_function("answer_cells_update", [old_option, new_option]),
        _pg_function("answer_cells_response_delete", _response_moves("OLD", "-1"), "OLD"),
        _pg_function(
            "answer_cells_response_update",
            [
                f"IF NOT ({_changed('IS DISTINCT FROM')}) THEN RETURN NULL; END IF",
                *_response_moves("OLD", "-1"),
                *_response_moves("NEW", "1"),
            ],
        ),
        f"CREATE TRIGGER answer_cells_insert BEFORE INSERT ON answers {row} answer_cells_insert()",
        f"CREATE TRIGGER answer_cells_delete BEFORE DELETE ON answers {row} answer_cells_delete()",
        "CREATE TRIGGER answer_cells_update AFTER UPDATE OF value ON answers "
        f"{row} answer_cells_update()",
        "CREATE TRIGGER answer_cells_response_delete BEFORE DELETE ON responses "
        f"{row} answer_cells_response_delete()",
        # No column list or WHEN (see _report_triggers): the function checks the keys.
        "CREATE TRIGGER answer_cells_response_update AFTER UPDATE ON responses "
        f"{row} answer_cells_response_update()",
    ]


def _answer_backfill() -> list[str]:
    rows = "answers a JOIN responses r ON r.id = a.response_id"
    keys = ", ".join(_keys("r"))
    columns = ", ".join((*ANSWER_KEYS, "n"))
    return [
        f"INSERT INTO answer_cells ({columns}) SELECT {keys}, a.question_key, a.value, count(*) "
        f"FROM {rows} WHERE {ANSWERED.format(a='a')} GROUP BY {keys}, a.question_key, a.value",
        f"INSERT INTO answer_cells ({columns}) SELECT {keys}, a.question_key, '', "
        f"count(DISTINCT a.response_id) FROM {rows} GROUP BY {keys}, a.question_key",
    ]


def _answer_table() -> None:
    id_key = {"nullable": False, "autoincrement": False}
    op.create_table(
        "answer_cells",
        sa.Column("questionnaire_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("week_start", sa.Date(), primary_key=True, nullable=False),
        sa.Column("district_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("point_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("region_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("channel_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("age_group", sa.String(16), primary_key=True, nullable=False),
        sa.Column("sex", sa.String(16), primary_key=True, nullable=False),
        sa.Column("source", sa.String(16), primary_key=True, nullable=False),
        sa.Column("flags", sa.Integer(), primary_key=True, **id_key),
        sa.Column("questionnaire_version_id", sa.Integer(), primary_key=True, **id_key),
        sa.Column("question_key", sa.String(64), primary_key=True, nullable=False),
        sa.Column("value", sa.String(64), primary_key=True, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*ANSWER_KEYS, name=op.f("pk_answer_cells")),
        sqlite_with_rowid=False,
    )


def _migration(name: str) -> ModuleType:
    """An earlier migration's module (its file name is not importable)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(path.stem.replace("0", "m", 1), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ANSWER_TRIGGERS = (
    ("answers", "answer_cells_insert"),
    ("answers", "answer_cells_delete"),
    ("answers", "answer_cells_update"),
    ("responses", "answer_cells_response_delete"),
    ("responses", "answer_cells_response_update"),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _migration("0007_report_cells.py")._drop_triggers()
    op.drop_table("report_cells")
    _report_table()
    for statement in _report_triggers(sqlite):
        op.execute(statement)
    op.execute(_report_backfill())
    _answer_table()
    for statement in _sqlite_answer_triggers() if sqlite else _postgres_answer_triggers():
        op.execute(statement)
    for statement in _answer_backfill():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, name in ANSWER_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON {table}")
        if not sqlite:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("answer_cells")
    cells = _migration("0007_report_cells.py")
    cells._drop_triggers()
    op.drop_table("report_cells")
    cells.upgrade()  # the table without source, unmasked triggers, filled
    _migration("0009_report_cells_by_exclusion.py").upgrade()  # masked, as before 0011
