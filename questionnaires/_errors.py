"""Errors raised when a questionnaire definition is invalid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition.

    ``file`` is the source the definition came from (a path or ``"<string>"``), ``key`` the
    question or section key the problem belongs to (``"scales.NAME"`` for a scale table, ``""``
    for file-level problems) and ``message`` a precise English description.
    """

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


class DefinitionError(ValueError):
    """A questionnaire definition could not be loaded.

    ``problems`` lists *every* problem found, in file order; ``str(error)`` prints one per
    line as ``FILE: KEY: MESSAGE`` (``FILE: MESSAGE`` for file-level problems).
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
