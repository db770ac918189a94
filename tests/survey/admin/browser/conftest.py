"""Staff browser tests: chromium against a live server in a thread, on a seeded SQLite copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A seeded SQLite copy only (the live server runs in a thread of the test process)."""
    path = tmp_path / "survey.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"
