"""The ``survey`` command line; one module per command group (db, questionnaire, demo and
bootstrap, user, qr, integrity, report and responses, paper). A refused operation prints its
message and exits with status 2."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """两率一度 survey engine management commands."""


def init_app(app: Flask) -> None:
    """Register the command groups on the app (also reachable via ``flask``)."""
    from survey.cli.cells import cells_group
    from survey.cli.db import db_group
    from survey.cli.demo import bootstrap_command
    from survey.cli.demo import demo_command
    from survey.cli.integrity import integrity_group
    from survey.cli.paper import paper_group
    from survey.cli.qr import qr_group
    from survey.cli.questionnaire import questionnaire_group
    from survey.cli.report import report_command
    from survey.cli.report import responses_group
    from survey.cli.users import user_group

    for command in (
        db_group,
        questionnaire_group,
        demo_command,
        bootstrap_command,
        user_group,
        qr_group,
        integrity_group,
        report_command,
        responses_group,
        cells_group,
        paper_group,
    ):
        app.cli.add_command(command)
