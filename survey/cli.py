"""The ``survey`` command line: database, questionnaires, demo data and set-up."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import with_appcontext


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """两率一度 survey engine management commands."""


def init_app(app: Flask) -> None:
    """Register the command groups on the app (also reachable via ``flask``)."""
    app.cli.add_command(db_group)
    app.cli.add_command(questionnaire_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(bootstrap_command)
    from survey.cli_users import user_group

    app.cli.add_command(user_group)
    from survey.cli_qr import qr_group

    app.cli.add_command(qr_group)


# --- database -------------------------------------------------------------------------


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


# --- questionnaires -------------------------------------------------------------------


@click.group("questionnaire")
def questionnaire_group() -> None:
    """Questionnaire definitions (TOML files)."""


@questionnaire_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def questionnaire_validate(files: tuple[str, ...]) -> None:
    """Check definition FILES; exit 1 listing every problem (file: key: message)."""
    from questionnaires import DefinitionError
    from questionnaires import load_file

    failed = False
    for name in files:
        try:
            defn = load_file(name)
        except DefinitionError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        except OSError as exc:
            failed = True
            click.echo(f"{name}: cannot read file: {exc.strerror}", err=True)
            continue
        click.echo(f"{name}: OK ({defn.key} v{defn.version}, {len(defn.questions)} questions)")
    if failed:
        sys.exit(1)


@questionnaire_group.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--status",
    type=click.Choice(["draft", "open", "closed"]),
    default="open",
    show_default=True,
    help="Status of a newly created version.",
)
@with_appcontext
def questionnaire_load(files: tuple[str, ...], status: str) -> None:
    """Store definition FILES as questionnaire versions (all or nothing)."""
    from survey.extensions import db

    try:
        results = _load_files(files, status)
    except click.ClickException:
        db.session.rollback()
        raise
    db.session.commit()
    for name, result in results:
        click.echo(f"{name}: {result.outcome} ({result.version.title} v{result.version.version})")


def _load_files(files: tuple[str, ...], status: str):  # type: ignore[no-untyped-def]
    from questionnaires import DefinitionError
    from questionnaires import load_file
    from survey.services.questionnaires import VersionConflict
    from survey.services.questionnaires import load_definition

    results = []
    for name in files:
        try:
            defn = load_file(name)
            text = Path(name).read_text(encoding="utf-8")
            results.append((name, load_definition(defn, text, status=status)))
        except DefinitionError as exc:
            raise click.ClickException(f"{exc}\nFix the file and run the command again.") from exc
        except VersionConflict as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"{name}: cannot read file: {exc.strerror}") from exc
    return results


@questionnaire_group.command("list")
@with_appcontext
def questionnaire_list() -> None:
    """List stored questionnaire versions."""
    from survey.extensions import db
    from survey.models import QuestionnaireVersion

    rows = db.session.execute(
        db.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)
    ).scalars()
    for v in rows:
        click.echo(f"{v.questionnaire.key}\tv{v.version}\t{v.status}\t{v.title}")


# --- demo and set-up --------------------------------------------------------------------


@click.command("demo")
@click.option("--responses", default=0, show_default=True, help="Synthetic responses to add.")
@click.option("--seed", default=20261122, show_default=True)
@with_appcontext
def demo_command(responses: int, seed: int) -> None:
    """Create the fictional demo city, its collection points and optional responses."""
    from survey import demo
    from survey.extensions import db

    summary = demo.ensure_demo_city()
    db.session.commit()
    click.echo(
        f"演示城市 / demo city: {summary.regions} regions, {summary.points} collection points"
    )
    if responses > 0:
        added = demo.add_responses(responses, seed=seed, progress=True)
        click.echo(f"已添加 {added} 份模拟答卷 / added {added} synthetic responses")


@click.command("bootstrap")
@click.option(
    "--demo-responses",
    default=3000,
    show_default=True,
    help="Synthetic responses to load when the database has none.",
)
@with_appcontext
def bootstrap_command(demo_responses: int) -> None:
    """Everything ``make run`` needs: migrate, seed, demo data, admin, sample link."""
    from survey import demo
    from survey.bootstrap import bootstrap

    info = bootstrap()
    if demo_responses > 0 and info.response_count == 0:
        demo.add_responses(demo_responses, seed=20261122, progress=True)
    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo("=" * 64)
    click.echo(f"管理后台 / admin:      {base}/admin/")
    click.echo(f"管理员账号 / login:    {info.admin_username}")
    click.echo(f"管理员密码 / password: {info.admin_password}")
    click.echo(f"示例问卷 / sample questionnaire: {base}/q/{info.sample_code}")
    click.echo("=" * 64)
