"""report_cells: the responses' sufficient statistics per report cell, kept by triggers

A week-based report read every response of its period (1,000,000 responses: 0.4-0.5 s for
the statement alone, 2-4x a bare count). ``report_cells`` holds, per (questionnaire, week,
district, point, region, channel, age group, sex, flags, version), the count and each
metric's count, sum and sum of squares; triggers on ``responses`` add a row's values on
INSERT, subtract them on DELETE and move them on an UPDATE of any key or metric (flag review,
the integrity sweep), so the table is exact whatever writes the responses. The upgrade fills
it from the responses already stored. See ``survey.models.report_cell``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KEYS = (
    "questionnaire_id",
    "week_start",
    "district_id",
    "point_id",
    "region_id",
    "channel_id",
    "age_group",
    "sex",
    "flags",
    "questionnaire_version_id",
)
METRICS = ("awareness", "participation", "satisfaction", "satisfaction_score")
#: Keys that may be NULL in responses, and what the cell stores instead.
MISSING = {"district_id": "0", "point_id": "0", "channel_id": "0", "age_group": "''", "sex": "''"}
VALUES = ("n", *(f"{m}_{part}" for m in METRICS for part in ("n", "sum", "sum2")))


def _key(row: str, key: str, mask: int | None = None) -> str:
    """A response's value of cell key ``key`` (``mask``: the bits of ``flags`` a cell keeps,
    None for all of them; migration 0009 keeps only the excluding bit)."""
    column = f"{row}.{key}"
    if key == "flags" and mask is not None:
        return f"({column} & {mask})"
    return f"coalesce({column}, {MISSING[key]})" if key in MISSING else column


def _values(row: str, sign: str, as_int: str) -> list[str]:
    out = [sign]
    for m in METRICS:
        column = f"{row}.{m}"
        out += [
            f"{sign} * {as_int.format(f'({column} IS NOT NULL)')}",
            f"{sign} * coalesce({column}, 0)",
            f"{sign} * coalesce({column} * {column}, 0)",
        ]
    return out


def _upsert(row: str, sign: str, table: str, as_int: str, mask: int | None = None) -> str:
    """INSERT of one response's signed values, added to its cell if the cell exists."""
    keys = [_key(row, k, mask) for k in KEYS]
    add = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in VALUES)
    return (
        f"INSERT INTO report_cells ({', '.join((*KEYS, *VALUES))}) "
        f"VALUES ({', '.join((*keys, *_values(row, sign, as_int)))}) "
        f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET {add}"
    )


TRACKED = ", ".join((*KEYS, *METRICS))


def _sqlite_triggers(mask: int | None = None) -> list[str]:
    as_int = "{}"  # a comparison is already 0 or 1
    return [
        "CREATE TRIGGER report_cells_insert AFTER INSERT ON responses BEGIN "
        f"{_upsert('NEW', '1', 'report_cells', as_int, mask)}; END",
        "CREATE TRIGGER report_cells_delete AFTER DELETE ON responses BEGIN "
        f"{_upsert('OLD', '-1', 'report_cells', as_int, mask)}; END",
        f"CREATE TRIGGER report_cells_update AFTER UPDATE OF {TRACKED} ON responses BEGIN "
        f"{_upsert('OLD', '-1', 'report_cells', as_int, mask)}; "
        f"{_upsert('NEW', '1', 'report_cells', as_int, mask)}; END",
    ]


def _postgres_triggers(mask: int | None = None) -> list[str]:
    # Plain PL/pgSQL statements (their plans are cached per session); a SQL function called
    # with PERFORM was planned again on every row (0.6 ms per stored response).
    as_int = "{}::integer"
    old = _upsert("OLD", "-1", "report_cells", as_int, mask)
    new = _upsert("NEW", "1", "report_cells", as_int, mask)
    return [
        "CREATE FUNCTION report_cells_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {old}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {new}; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER report_cells_track AFTER INSERT OR DELETE OR UPDATE OF {TRACKED} "
        "ON responses FOR EACH ROW EXECUTE FUNCTION report_cells_track()",
    ]


def _backfill(mask: int | None = None) -> str:
    keys = [_key("responses", k, mask) for k in KEYS]
    sums = ["count(*)"]
    for m in METRICS:
        sums += [f"count({m})", f"coalesce(sum({m}), 0)", f"coalesce(sum({m} * {m}), 0)"]
    return (
        f"INSERT INTO report_cells ({', '.join((*KEYS, *VALUES))}) "
        f"SELECT {', '.join((*keys, *sums))} FROM responses GROUP BY {', '.join(keys)}"
    )


def upgrade() -> None:
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
        sa.PrimaryKeyConstraint(*KEYS, name=op.f("pk_report_cells")),
        sqlite_with_rowid=False,
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_triggers() if sqlite else _postgres_triggers():
        op.execute(statement)
    op.execute(_backfill())


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER report_cells_{name}")
    else:
        op.execute("DROP TRIGGER report_cells_track ON responses")
        op.execute("DROP FUNCTION report_cells_track()")


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("report_cells")
