"""Engine-level settings: SQLite in WAL mode with a busy timeout so workers can share it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy import event


def configure_engine_events(engine: Engine, busy_timeout_ms: int) -> None:
    """Install per-connection pragmas on SQLite engines; PostgreSQL needs none."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
