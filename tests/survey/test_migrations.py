"""Migrations build exactly the schema the models declare, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from survey.extensions import db
from survey.migrate import current_revision
from survey.models import Base


def test_migrated_schema_matches_models(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_database_is_at_head(app: Flask) -> None:
    from alembic.script import ScriptDirectory

    from survey.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(app)).get_current_head()
    assert current_revision(app) == head


def test_response_indexes_are_the_ones_queries_use(app: Flask) -> None:
    """Every index on responses costs each resident's INSERT: the ones reports, the sweep
    and point statistics read exist, and the five migration 0008 dropped stay dropped."""
    with app.app_context():
        names = {ix["name"] for ix in inspect(db.engine).get_indexes("responses")}
    for wanted in (
        "ix_responses_version_submitted",
        "ix_responses_point_submitted",
        "ix_responses_report",
        "ix_responses_flagged",
    ):
        assert wanted in names
    for dropped in (
        "ix_responses_point_id",
        "ix_responses_version_region",
        "ix_responses_version_channel",
        "ix_responses_version_week",
        "ix_responses_version_district",
    ):
        assert dropped not in names


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
