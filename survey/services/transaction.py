"""The unit of work of a request or command: services flush, the caller commits here.

Views and commands never touch the session themselves; they call :func:`commit` when the
work succeeded and :func:`rollback` when a :class:`~survey.errors.SurveyError` refused it
(the request teardown would discard it anyway, but a form page rendered after a refusal
must not see half-done changes).
"""

from __future__ import annotations

from survey.extensions import db


def commit() -> None:
    """Commit the current session's transaction."""
    db.session.commit()


def rollback() -> None:
    """Discard the current session's uncommitted changes."""
    db.session.rollback()


def ping() -> None:
    """Run a trivial query (health checks): raises when the database is unreachable."""
    db.session.execute(db.text("SELECT 1"))
