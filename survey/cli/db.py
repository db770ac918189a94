"""``survey db``: Alembic migrations of the configured database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest (or given) revision."""
    from survey.migrate import upgrade

    upgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"数据库已迁移到 {revision} / database migrated to {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (use 'base' to drop everything)."""
    from survey.migrate import downgrade

    downgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"database downgraded to {revision}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the revision the database is at."""
    from survey.migrate import current_revision

    click.echo(current_revision(current_app._get_current_object()) or "(not migrated)")  # type: ignore[attr-defined]
