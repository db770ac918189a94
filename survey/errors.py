"""The one error family of the application: services raise it, the web layer maps it.

Every refusal a user can cause (bad input, a missing or foreign object, a closed
questionnaire, a duplicate) is a :class:`SurveyError` whose ``status`` is the HTTP status the
web layer answers with and whose message is shown to the user as it is (Chinese for staff
and residents). Views catch :class:`SurveyError` only when they re-render a form with the
message; everything else reaches the single handler in ``survey.web.errors``. The CLI turns
the same errors into a message and exit status 2. No Flask here: services stay usable from
the command line and tests.
"""

from __future__ import annotations

from typing import ClassVar


class SurveyError(Exception):
    """Root of every error the application reports to a person; ``str(exc)`` is the message."""

    status: ClassVar[int] = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(SurveyError):
    """The input cannot be accepted as it is (400); nothing was written."""

    status = 400


class Forbidden(SurveyError):
    """The signed-in account may not do this (403)."""

    status = 403


class NotFound(SurveyError):
    """Unknown, or outside the account's scope (404: existence does not leak)."""

    status = 404


class Conflict(SurveyError):
    """The action clashes with what is stored (409), e.g. a second response from a device."""

    status = 409


class Gone(SurveyError):
    """The link exists but no longer takes answers (410): revoked, expired or closed."""

    status = 410


class BadSubmission(InvalidInput):
    """A resident's form post no browser would send (wrong type, encoding, too many fields)."""


class PointError(InvalidInput):
    """A collection point could not be issued or changed."""


class AccountError(InvalidInput):
    """An account operation was refused."""


class ImportFileError(InvalidInput):
    """An uploaded file cannot be read at all (format, encoding, missing columns)."""


class VersionConflict(Conflict):
    """A questionnaire version with responses cannot change; load a new version instead."""


class ConfigError(SurveyError):
    """A setting that cannot work; the app refuses to start."""

    status = 500
