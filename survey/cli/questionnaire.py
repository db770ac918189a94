"""``survey questionnaire``: validate, load and list questionnaire definitions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


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
    from survey.services import transaction

    try:
        results = _load_files(files, status)
    except click.ClickException:
        transaction.rollback()
        raise
    transaction.commit()
    for name, result in results:
        click.echo(f"{name}: {result.outcome} ({result.version.title} v{result.version.version})")


def _load_files(files: tuple[str, ...], status: str):  # type: ignore[no-untyped-def]
    from questionnaires import DefinitionError
    from questionnaires import load_file
    from survey.errors import VersionConflict
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
    from survey.services.questionnaires import list_versions

    for v in list_versions():
        click.echo(f"{v.questionnaire.key}\tv{v.version}\t{v.status}\t{v.title}")
