"""The server's background jobs: the real app object, failures reported once, waking, flush.

The end-to-end test through gunicorn is ``test_served.py``; these tests run the same jobs
in threads of the test process, with real sweeps on the test database.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from flask import Flask
from flask import current_app

from survey.extensions import db
from survey.models import IntegrityState
from survey.services.integrity import background
from survey.services.integrity.background import Job
from survey.services.integrity.background import describe
from survey.services.integrity.background import sweep_job
from survey.services.scans import ScanCounter
from tests.survey.integrity.conftest import T0
from tests.survey.integrity.conftest import World


def _state(app: Flask) -> IntegrityState | None:
    """The state row, detached with its values loaded."""
    with app.app_context():
        found = db.session.get(IntegrityState, 1)
        if found is not None:
            db.session.refresh(found)
            db.session.expunge(found)
        db.session.rollback()
        return found


def test_a_failing_sweep_is_logged_once_and_stored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.app
    job = sweep_job(app)
    app.config["INTEGRITY_SWEEP_BATCH"] = "not a number"  # a real failure inside sweep()
    with caplog.at_level(logging.DEBUG, logger="survey.services.integrity.background"):
        assert job.once() is False
        assert job.once() is False
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "ValueError" in errors[0].getMessage()
    assert errors[0].exc_info is not None  # the traceback, once
    state = _state(app)
    assert state is not None and state.failure is not None
    assert state.failure.startswith("ValueError: invalid literal for int()")
    assert state.failed_at is not None and state.swept_at is None

    app.config["INTEGRITY_SWEEP_BATCH"] = 5000
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="survey.services.integrity.background"):
        assert job.once() is True
    assert any("works again" in r.getMessage() for r in caplog.records)
    state = _state(app)
    assert state is not None and state.failure is None and state.swept_at is not None


def test_background_needs_the_real_app(world: World) -> None:
    with world.app.app_context(), pytest.raises(TypeError):
        background.start(current_app)  # type: ignore[arg-type]


def test_the_background_sweep_runs_in_its_thread_and_wakes(world: World) -> None:
    app = world.app
    with app.app_context():
        for i in range(5):
            world.store(world.points[0], T0 + dt.timedelta(seconds=i), duration=2.0)
        db.session.commit()
    app.config.update(INTEGRITY_SWEEP_SECONDS=3600, INTEGRITY_SETTLE_SECONDS=0)
    running = background.start(app)
    try:
        assert background.start(app) is running  # once per process
        assert background.wake_sweep(app)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = _state(app)
            if state is not None and state.swept_at is not None and state.watermark >= 5:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the background sweep did not run")
    finally:
        running.stop()
        for job in running.jobs.values():
            assert job.thread is not None
            job.thread.join(timeout=30)


def test_without_a_sweep_thread_waking_says_so(app: Flask) -> None:
    app.config["INTEGRITY_SWEEP_SECONDS"] = 0
    assert background.wake_sweep(app) is False
    running = background.start(app)
    try:
        assert "sweep" not in running.jobs and background.wake_sweep(app) is False
    finally:
        running.stop()


def test_a_failure_with_another_cause_is_logged_again(caplog: pytest.LogCaptureFixture) -> None:
    causes = iter([KeyError("a"), KeyError("a"), OSError("disk"), None])
    stored: list[str] = []

    def run() -> None:
        exc = next(causes)
        if exc is not None:
            raise exc

    job = Job("demo", 1.0, run, lambda e: stored.append(describe(e)))
    with caplog.at_level(logging.ERROR, logger="survey.services.integrity.background"):
        results = [job.once() for _ in range(4)]
    assert results == [False, False, False, True]
    assert stored == ["KeyError: 'a'", "OSError: disk"]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 2


def test_requests_only_count_when_the_flush_thread_runs() -> None:
    class Engine:  # flush() is not expected to run: no engine needed
        pass

    counter = ScanCounter(Engine(), flush_seconds=0.001, flush_max=3)  # type: ignore[arg-type]
    woken: list[int] = []
    counter.background = lambda: woken.append(counter.pending())
    time.sleep(0.01)  # the interval has passed: a request would have written before
    counter.record(1)
    counter.record(1)
    assert counter.pending() == 2 and woken == []
    counter.record(2)  # a full tally wakes the thread, still no write by the request
    assert counter.pending() == 3 and woken == [3]
