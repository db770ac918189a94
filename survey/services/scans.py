"""Scan counting for the channel funnel: batched in memory, upserted per point per day.

Choice: a page view must not add a write to the hot path (on SQLite every write serialises
all workers). Each worker process keeps a small in-memory tally ``{(point_id, day): n}`` and
folds it into ``point_scans_daily`` with one dialect-aware ``INSERT ... ON CONFLICT DO UPDATE
SET scans = scans + excluded.scans`` (SQLite and PostgreSQL) when ``SCAN_FLUSH_SECONDS`` have
passed since the last flush or ``SCAN_FLUSH_MAX`` scans are pending, and when the process
exits. The flush runs in its own short transaction on its own connection, so it never mixes
with a resident's response. Trade-off: a worker killed with SIGKILL loses at most the last few
seconds of scan counts; responses are never affected. ``SCAN_FLUSH_SECONDS = 0`` counts every
scan immediately (tests use that).

Under the server the flush is the server's background work, never a request's: gunicorn's
``post_worker_init`` starts a flush thread (``survey.services.integrity.background``), which
sets :attr:`ScanCounter.background`; a request then only counts, and a full tally wakes the
thread. Without that thread (a development server) the request that finds the tally due
writes it, as before.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from survey.models import PointScanDaily
from survey.timeutil import local_day


class ScanCounter:
    """Per-process tally of scans, flushed to the database in batches."""

    def __init__(self, engine: Engine, flush_seconds: float, flush_max: int) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self.flush_max = flush_max
        self._pending: Counter[tuple[int, dt.date]] = Counter()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        #: Wakes the server's flush thread, when one runs in this process.
        self.background: Callable[[], None] | None = None

    def record(self, point_id: int, moment: dt.datetime | None = None) -> None:
        """Count one scan of ``point_id``; flush when the batch is due."""
        day = local_day(moment or dt.datetime.now(dt.UTC))
        with self._lock:
            self._pending[(point_id, day)] += 1
            full = sum(self._pending.values()) >= self.flush_max
            due = full or time.monotonic() - self._last_flush >= self.flush_seconds
        if self.background is not None and self.flush_seconds > 0:
            if full:
                self.background()
            return
        if due:
            self.flush()

    def pending(self) -> int:
        """Scans counted but not yet written."""
        with self._lock:
            return sum(self._pending.values())

    def flush(self) -> int:
        """Write pending scans with one upsert per (point, day); return how many were written."""
        with self._lock:
            batch = dict(self._pending)
            self._pending.clear()
            self._last_flush = time.monotonic()
        if not batch:
            return 0
        try:
            upsert_scans(self.engine, batch)
        except Exception:
            # Put the counts back so the next flush retries them.
            with self._lock:
                self._pending.update(batch)
            raise
        return sum(batch.values())


def upsert_scans(engine: Engine, batch: dict[tuple[int, dt.date], int]) -> None:
    """Add ``batch`` counts to ``point_scans_daily`` in a short transaction of its own."""
    with engine.begin() as conn:
        add_scans(conn, batch)


def add_scans(conn: Connection, batch: dict[tuple[int, dt.date], int]) -> None:
    """Add ``batch`` counts on ``conn`` (INSERT ... ON CONFLICT DO UPDATE, one statement)."""
    if not batch:
        return
    table: Table = PointScanDaily.__table__  # type: ignore[assignment]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    rows = [{"point_id": p, "day": d, "scans": n} for (p, d), n in sorted(batch.items())]
    for start in range(0, len(rows), 1000):  # SQLite caps the parameters of one statement
        stmt = insert(table).values(rows[start : start + 1000])
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.point_id, table.c.day],
            set_={"scans": table.c.scans + stmt.excluded.scans},
        )
        conn.execute(stmt)


def init_app(app: Flask) -> None:
    """Attach a scan counter to the app and flush it when the process exits."""
    from survey.extensions import db

    with app.app_context():
        engine = db.engine
    counter = ScanCounter(
        engine,
        float(app.config["SCAN_FLUSH_SECONDS"]),
        int(app.config["SCAN_FLUSH_MAX"]),
    )
    app.extensions["survey_scans"] = counter
    atexit.register(_flush_quietly, counter)


def counter_of(app: Flask) -> ScanCounter:
    """The scan counter attached to ``app``."""
    counter: ScanCounter = app.extensions["survey_scans"]
    return counter


def _flush_quietly(counter: ScanCounter) -> None:
    # The process is exiting (the database may be gone in tests): nothing left to tell.
    with contextlib.suppress(Exception):
        counter.flush()
