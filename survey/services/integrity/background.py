"""Background work of a server process: the integrity sweep and the scan-tally flush.

Started by the server, never by a request: ``gunicorn.conf.py``'s ``post_worker_init`` hook
calls :func:`start` with the worker's application object (``survey.serving.start_background``).
Each job runs in a daemon thread of its own that holds the real :class:`~flask.Flask` object
(``current_app`` is a proxy that means nothing outside a request or an app context).

* **Sweep** every ``INTEGRITY_SWEEP_SECONDS`` (0: not in the server; run
  ``survey integrity sweep`` from cron instead). Every worker runs the thread; the lease row
  of ``integrity_state`` lets one process sweep at a time. A staff request
  (``POST /admin/quality/sweep``) records ``requested_at`` and wakes this process's thread.
* **Scan flush** every ``SCAN_FLUSH_SECONDS``: the per-process scan tally is written by this
  thread; a request only counts (``survey.services.scans``).

A failure is logged once with its traceback and stored (``integrity_state.failure``, shown on
the 数据质量 page with the last success); the same cause again is logged at debug level only,
and a recovery is logged once.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from flask import Flask

log = logging.getLogger(__name__)

_KEY = "survey_background"


@dataclass
class FailureLog:
    """Logs a failure once per distinct cause, and the recovery once."""

    name: str
    last: str | None = None

    def failed(self, exc: BaseException) -> bool:
        """Log ``exc`` unless the previous run failed the same way; True when it was new."""
        cause = describe(exc)
        if cause == self.last:
            log.debug("%s failed again: %s", self.name, cause)
            return False
        self.last = cause
        log.error("%s failed: %s", self.name, cause, exc_info=exc)
        return True

    def succeeded(self) -> None:
        """Note a success (logged once after a failure)."""
        if self.last is not None:
            log.warning("%s works again (last failure: %s)", self.name, self.last)
            self.last = None


def describe(exc: BaseException) -> str:
    """The cause of a failure in one line (type and message, at most 300 characters)."""
    text = " ".join(str(exc).split()) or "-"
    return f"{type(exc).__name__}: {text}"[:300]


@dataclass
class Job:
    """One periodic job in a daemon thread: ``run`` every ``seconds`` or when woken."""

    name: str
    seconds: float
    run: Callable[[], None]
    on_failure: Callable[[BaseException], None] | None = None
    wake_event: threading.Event = field(default_factory=threading.Event)
    stop_event: threading.Event = field(default_factory=threading.Event)
    failures: FailureLog = field(init=False)
    thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.failures = FailureLog(self.name)

    def start(self) -> None:
        """Start the thread."""
        self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self.thread.start()

    def wake(self) -> None:
        """Run now instead of at the end of the interval."""
        self.wake_event.set()

    def stop(self) -> None:
        """Stop after the current run."""
        self.stop_event.set()
        self.wake_event.set()

    def once(self) -> bool:
        """One run: True on success; a failure is logged (once per cause) and reported."""
        try:
            self.run()
        except Exception as exc:  # the next run retries; the cause is where staff look
            if self.failures.failed(exc) and self.on_failure is not None:
                try:
                    self.on_failure(exc)
                except Exception as again:  # e.g. the database is down: logged above
                    log.debug("%s: could not store the failure: %s", self.name, describe(again))
            return False
        self.failures.succeeded()
        return True

    def _loop(self) -> None:
        rng = random.Random()
        # A first run soon after start, spread so that workers do not all start at once.
        self.wake_event.wait(min(self.seconds, 2.0) * rng.uniform(0.5, 1.0))
        while not self.stop_event.is_set():
            self.wake_event.clear()
            self.once()
            self.wake_event.wait(self.seconds * rng.uniform(0.9, 1.1))


@dataclass
class Background:
    """The background jobs of one process for one app."""

    app: Flask
    pid: int
    jobs: dict[str, Job] = field(default_factory=dict)

    def wake(self, name: str) -> bool:
        """Wake job ``name``; False when it does not run in this process."""
        job = self.jobs.get(name)
        if job is None or self.pid != os.getpid():
            return False
        job.wake()
        return True

    def stop(self) -> None:
        """Stop every job (tests; the threads are daemons otherwise)."""
        for job in self.jobs.values():
            job.stop()


def sweep_job(app: Flask) -> Job:
    """The integrity sweep as a job of ``app`` (the real object, not ``current_app``)."""
    from survey.services.integrity.sweep import record_failure
    from survey.services.integrity.sweep import sweep_all

    def run() -> None:
        with app.app_context():
            sweep_all()

    def on_failure(exc: BaseException) -> None:
        with app.app_context():
            record_failure(describe(exc))

    return Job("integrity-sweep", float(app.config["INTEGRITY_SWEEP_SECONDS"]), run, on_failure)


def flush_job(app: Flask) -> Job:
    """The scan-tally flush of ``app``'s scan counter as a job."""
    from survey.services.scans import counter_of

    counter = counter_of(app)
    seconds = float(app.config["SCAN_FLUSH_SECONDS"])

    def run() -> None:
        counter.flush()

    job = Job("scan-flush", seconds, run)
    counter.background = job.wake  # a full tally wakes the thread; requests never write
    return job


def start(app: Flask) -> Background:
    """Start this process's background jobs for ``app`` (once per process).

    ``app`` must be the application object itself: a thread of its own has no context in
    which a proxy could resolve.
    """
    if not issubclass(type(app), Flask):  # a proxy passes isinstance(), not this
        raise TypeError(f"background jobs need the Flask application, not {type(app).__name__}")
    found: Background | None = app.extensions.get(_KEY)
    if found is not None and found.pid == os.getpid():
        return found
    found = Background(app, os.getpid())
    app.extensions[_KEY] = found
    if float(app.config["INTEGRITY_SWEEP_SECONDS"]) > 0:
        found.jobs["sweep"] = sweep_job(app)
    if float(app.config["SCAN_FLUSH_SECONDS"]) > 0 and "survey_scans" in app.extensions:
        found.jobs["flush"] = flush_job(app)
    for job in found.jobs.values():
        job.start()
    names = ", ".join(j.name for j in found.jobs.values()) or "none"
    log.info("background jobs started in process %s: %s", found.pid, names)
    return found


def running(app: Flask) -> Background | None:
    """This process's background jobs of ``app``, if started."""
    found: Background | None = app.extensions.get(_KEY)
    return found if found is not None and found.pid == os.getpid() else None


def wake_sweep(app: Flask) -> bool:
    """Wake this process's sweep thread; False when no sweep thread runs here."""
    found = running(app)
    return found is not None and found.wake("sweep")
