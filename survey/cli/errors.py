"""How the command line reports a refused operation: the message, and exit status 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

import click

from survey.errors import SurveyError

P = ParamSpec("P")
R = TypeVar("R")


class UsageProblem(click.ClickException):
    """A ``SurveyError`` on the command line: printed as ``Error: …``, exit status 2."""

    exit_code = 2


def reported(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command``; a ``SurveyError`` rolls back and exits 2 with its message."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SurveyError as exc:
            from survey.services import transaction

            transaction.rollback()
            raise UsageProblem(str(exc)) from exc

    return run
