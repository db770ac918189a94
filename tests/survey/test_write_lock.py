"""``survey.database.begin_immediate``: SQLite's write lock taken up front, tried again in
fine steps while another connection holds it, then left to SQLite's busy timeout (tries are
counted with SQLite's own trace callback, which sees those on the DBAPI connection too)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError

from survey.database import FAST_WAIT_SECONDS
from survey.database import begin_immediate
from survey.database import configure_engine_events


def _engine(path: Path, busy_ms: int):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{path}")
    configure_engine_events(engine, busy_ms)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    engine.dispose()
    begins: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # every try, through SQLAlchemy or on the DBAPI connection, as SQLite runs it
        dbapi_connection.set_trace_callback(
            lambda statement: begins.append(statement) if statement == "BEGIN IMMEDIATE" else None
        )

    return engine, begins


def _busy_timeout(conn) -> int:  # type: ignore[no-untyped-def]
    cursor = conn.connection.dbapi_connection.cursor()
    value = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    cursor.close()
    return int(value)


def _hold(path: Path, seconds: float, ready: threading.Event) -> None:
    """Another writer (as another worker process would be) holding the lock a while."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    ready.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_a_free_lock_is_taken_at_once(tmp_path: Path) -> None:
    engine, begins = _engine(tmp_path / "a.db", 5_000)
    with engine.connect() as conn:
        begin_immediate(conn)
        assert conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        begin_immediate(conn)  # already in the transaction: nothing more
        assert len(begins) == 1
        assert _busy_timeout(conn) == 5_000
        conn.rollback()


def test_a_short_hold_is_waited_out_in_fine_steps(tmp_path: Path) -> None:
    """The lock comes free within the fast wait: taken by a later try of the fine steps, and
    the busy timeout is as it was."""
    path = tmp_path / "a.db"
    engine, begins = _engine(path, 5_000)
    ready = threading.Event()
    holder = threading.Thread(target=_hold, args=(path, FAST_WAIT_SECONDS / 5, ready))
    holder.start()
    ready.wait(5)
    with engine.connect() as conn:
        begin_immediate(conn)
        assert conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        assert len(begins) >= 2
        assert _busy_timeout(conn) == 5_000
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.commit()
    holder.join(5)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t ORDER BY x")).scalars().all() == [1, 2]


def test_a_longer_hold_is_left_to_sqlites_busy_timeout(tmp_path: Path) -> None:
    """Past the fast wait the last try waits in SQLite's busy handler and succeeds when
    the holder commits within the busy timeout."""
    path = tmp_path / "a.db"
    engine, begins = _engine(path, 5_000)
    ready = threading.Event()
    holder = threading.Thread(target=_hold, args=(path, FAST_WAIT_SECONDS * 4, ready))
    holder.start()
    ready.wait(5)
    with engine.connect() as conn:
        begin_immediate(conn)
        assert conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        assert len(begins) >= 3  # fast tries, then the one that waited in SQLite
        assert _busy_timeout(conn) == 5_000
        conn.rollback()
    holder.join(5)


def test_a_lock_held_past_the_busy_timeout_fails_as_before(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    engine, _ = _engine(path, 150)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn:
            with pytest.raises(OperationalError, match="database is locked"):
                begin_immediate(conn)
            assert not conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
            assert _busy_timeout(conn) == 150
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_other_errors_are_raised_at_once(tmp_path: Path) -> None:
    engine, _ = _engine(tmp_path / "a.db", 5_000)
    tries: list[int] = []

    def deny_transactions(action: int, *_: object) -> int:
        if action == sqlite3.SQLITE_TRANSACTION:
            tries.append(action)
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        dbapi.set_authorizer(deny_transactions)  # type: ignore[union-attr]
        with pytest.raises(DBAPIError, match="not authorized"):
            begin_immediate(conn)
        dbapi.set_authorizer(None)  # type: ignore[union-attr]
        assert len(tries) == 1  # no retry of an error that is not "locked"
        assert _busy_timeout(conn) == 5_000


def test_already_in_a_transaction_nothing_is_sent(tmp_path: Path) -> None:
    engine, begins = _engine(tmp_path / "a.db", 5_000)
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))  # pysqlite opens the transaction
        begin_immediate(conn)
        assert begins == []
        conn.rollback()
