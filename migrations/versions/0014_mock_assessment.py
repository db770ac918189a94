"""Mock assessment: sample plans, drawn communities, quotas, interviewers, contact attempts

Adds ``sample_plans``, ``plan_strata``, ``plan_units``, ``plan_quotas``,
``interviewer_assignments`` and ``contact_attempts``, and widens ``responses.source`` from
VARCHAR(10) to VARCHAR(16) (``door_to_door`` has 12 characters; so does a ``source``
column of ``report_cells`` if an earlier migration added one).

Widening a VARCHAR changes nothing stored. PostgreSQL alters the type in place (no rewrite,
no effect on the report_cells trigger, which reads the row at run time). SQLite does not
enforce the length at all; its table definition text is edited in place (SQLite's documented
procedure for schema changes that do not touch stored content: ``writable_schema`` and a new
``schema_version``) instead of a batch copy, because copying ``responses`` would drop its
report_cells triggers and, with foreign keys on, cascade the DROP into ``answers`` and
``response_flags``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WIDENED = ("responses", "report_cells")


def _widen(old: int, new: int) -> None:
    """``source`` VARCHAR(old) -> VARCHAR(new) on every table of WIDENED that has it."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    tables = [
        t
        for t in WIDENED
        if t in inspector.get_table_names()
        and any(c["name"] == "source" for c in inspector.get_columns(t))
    ]
    if bind.dialect.name != "sqlite":
        for table in tables:
            op.alter_column(
                table,
                "source",
                type_=sa.String(new),
                existing_type=sa.String(old),
                existing_nullable=table != "responses",
            )
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    for table in tables:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar_one()
        before = f"source VARCHAR({old})"
        if before not in sql:
            raise RuntimeError(f"{table}.source is not {before}: {sql}")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(before, f"source VARCHAR({new})", 1), table),
        )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _plans() -> None:
    op.create_table(
        "sample_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("interviews_per_unit", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sample_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_versions.id"],
            name=op.f("fk_sample_plans_questionnaire_version_id_questionnaire_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_sample_plans_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_plans")),
    )


def _plan_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["plan_id"],
        ["sample_plans.id"],
        name=op.f(f"fk_{table}_plan_id_sample_plans"),
        ondelete="CASCADE",
    )


def _region_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["regions.id"], name=op.f(f"fk_{table}_{column}_regions")
    )


def _strata_units_quotas() -> None:
    op.create_table(
        "plan_strata",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("units_drawn", sa.Integer(), nullable=False),
        sa.Column("frame_units", sa.Integer(), nullable=False),
        sa.Column("frame_size", sa.Double(), nullable=False),
        _region_fk("plan_strata", "district_id"),
        _plan_fk("plan_strata"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_strata")),
        sa.UniqueConstraint("plan_id", "district_id", name=op.f("uq_plan_strata_plan_id")),
    )
    op.create_table(
        "plan_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Double(), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("certainty", sa.Boolean(), nullable=False),
        sa.Column("interviews", sa.Integer(), nullable=False),
        _region_fk("plan_units", "community_id"),
        _region_fk("plan_units", "district_id"),
        _plan_fk("plan_units"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_units")),
        sa.UniqueConstraint("plan_id", "community_id", name=op.f("uq_plan_units_plan_id")),
    )
    op.create_table(
        "plan_quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("age_group", sa.String(length=16), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        _region_fk("plan_quotas", "district_id"),
        _plan_fk("plan_quotas"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_quotas")),
        sa.UniqueConstraint(
            "plan_id", "district_id", "age_group", "sex", name=op.f("uq_plan_quotas_plan_id")
        ),
    )


def _fieldwork() -> None:
    op.create_table(
        "interviewer_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("interviewer_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["users.id"],
            name=op.f("fk_interviewer_assignments_interviewer_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["plan_units.id"],
            name=op.f("fk_interviewer_assignments_unit_id_plan_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviewer_assignments")),
        sa.UniqueConstraint(
            "unit_id", "interviewer_id", name=op.f("uq_interviewer_assignments_unit_id")
        ),
    )
    op.create_index(
        op.f("ix_interviewer_assignments_interviewer_id"),
        "interviewer_assignments",
        ["interviewer_id"],
        unique=False,
    )
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_uuid", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("interviewer_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"], ["users.id"], name=op.f("fk_contact_attempts_interviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_contact_attempts_response_id_responses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["plan_units.id"], name=op.f("fk_contact_attempts_unit_id_plan_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
        sa.UniqueConstraint("client_uuid", name=op.f("uq_contact_attempts_client_uuid")),
        sa.UniqueConstraint("response_id", name=op.f("uq_contact_attempts_response_id")),
    )
    op.create_index(
        op.f("ix_contact_attempts_unit_id"), "contact_attempts", ["unit_id"], unique=False
    )
    op.create_index(
        "ix_contact_attempts_interviewer_at",
        "contact_attempts",
        ["interviewer_id", "attempted_at"],
        unique=False,
    )


def upgrade() -> None:
    _widen(10, 16)
    _plans()
    _strata_units_quotas()
    _fieldwork()


def downgrade() -> None:
    for table in (
        "contact_attempts",
        "interviewer_assignments",
        "plan_quotas",
        "plan_units",
        "plan_strata",
        "sample_plans",
    ):
        op.drop_table(table)
    _widen(16, 10)
