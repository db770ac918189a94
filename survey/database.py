"""Engine-level settings: SQLite in WAL mode with a busy timeout so workers can share it.

A SQLite database file is created owner-only (0600) before SQLite first opens it, and an
existing one is narrowed to 0600; SQLite gives its ``-wal`` and ``-shm`` files the mode
of the database file, so those are owner-only too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import event


def configure_engine_events(engine: Engine, busy_timeout_ms: int) -> None:
    """Install per-connection pragmas on SQLite engines; PostgreSQL needs none."""
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database

    @event.listens_for(engine, "do_connect")
    def _owner_only(*_args: Any) -> None:
        if database not in (None, "", ":memory:") and not str(database).startswith("file:"):
            owner_only_file(Path(str(database)))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def owner_only_file(path: Path) -> None:
    """Create ``path`` (and nothing else) as an empty 0600 file, or narrow it and its SQLite
    companions (``-wal``, ``-shm``, ``-journal``) to 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return  # a folder that does not exist or cannot be written: SQLite will say so
    else:
        os.close(fd)
    for candidate in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077:
                candidate.chmod(mode & 0o700)
        except OSError:
            continue
