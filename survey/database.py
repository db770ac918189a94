"""Engine-level settings: SQLite in WAL mode with a busy timeout so workers can share it.

A writer takes SQLite's write lock up front (:func:`begin_immediate`, ``BEGIN IMMEDIATE``).
When another connection holds it, SQLite's own busy handler sleeps 1, 2, 5, 10, 15 ms ...
between tries, although a resident's write transaction holds the lock for about a
millisecond: the lock then stands free while the waiters sleep. So the first
:data:`FAST_WAIT_SECONDS` are spent trying again every :data:`FAST_STEP_SECONDS`, and only
a longer wait is left to SQLite's busy handler (measured with ``benchmarks/load.py``, see
``benchmarks/README.md``).

A SQLite database file is created owner-only (0600) before SQLite first opens it, and an
existing one is narrowed to 0600; SQLite gives its ``-wal`` and ``-shm`` files the mode
of the database file, so those are owner-only too.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

#: How long a writer tries again for SQLite's write lock in fine steps before it leaves the
#: rest of the busy timeout to SQLite's busy handler (whose sleeps, 1 to 100 ms, cost no CPU).
FAST_WAIT_SECONDS = 0.025
#: The pause between two of those tries.
FAST_STEP_SECONDS = 0.00025
#: Key of the connection's busy timeout (ms) in its pool record's ``info``.
BUSY_TIMEOUT_KEY = "survey_busy_timeout_ms"


def begin_immediate(conn: Connection) -> None:
    """On SQLite, take the write lock now (``BEGIN IMMEDIATE``) unless a transaction is
    already open: tried every :data:`FAST_STEP_SECONDS` for :data:`FAST_WAIT_SECONDS`, then
    once more with the connection's busy timeout, in SQLite's busy handler, after which
    SQLite's "database is locked" is raised as before. PostgreSQL needs nothing."""
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is None or dbapi.in_transaction:  # type: ignore[attr-defined]
        return
    timeout_ms = int(conn.connection.info.get(BUSY_TIMEOUT_KEY, 0))
    if timeout_ms <= 0:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    _busy_timeout(dbapi, 0)
    try:
        if _begun(conn):
            return
        deadline = time.monotonic() + FAST_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(FAST_STEP_SECONDS)
            if _retried(dbapi):
                return
    finally:
        _busy_timeout(dbapi, timeout_ms)
    # The rest of the wait in SQLite's busy handler; raises SQLite's own error if it fails.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begun(conn: Connection) -> bool:
    """``BEGIN IMMEDIATE`` without waiting: False when another connection holds the lock."""
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
            return False
        raise
    return True


def _retried(dbapi: Any) -> bool:
    """A retry on the DBAPI connection itself: a failed try costs 5 us there against 23 us
    through SQLAlchemy's error handling. False on any error (the last, waiting ``BEGIN``
    through SQLAlchemy reports one that is not "locked")."""
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        return False
    return True


def _busy_timeout(dbapi: Any, ms: int) -> None:
    cursor = dbapi.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(ms)}")
    cursor.close()


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
    def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
        record.info[BUSY_TIMEOUT_KEY] = int(busy_timeout_ms)
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
