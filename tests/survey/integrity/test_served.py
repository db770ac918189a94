"""Issue 21: the sweep and the scan-tally flush run in the served app, started by the server.

End to end: ``gunicorn`` started from the repository root as ``make run`` starts it (it reads
the repository's ``gunicorn.conf.py``: gthread workers, its ``post_worker_init`` hook), two
workers, a random port, a temporary instance folder, on SQLite and PostgreSQL. Responses are
posted over HTTP; nothing in the test calls the sweep. The test waits for the background
sweep to set a cross-response flag (``SERIAL``: one network and browser filling forms one
after another) and for the background flush to write the scans.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import IntegrityState
from survey.models import PointScanDaily
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).parent / "gunicorn"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CHOICE = re.compile(r'<input[^>]*type="(radio|checkbox)"[^>]*>')
ATTR = re.compile(r'(name|value)="([^"]*)"')
SELECT = re.compile(r'<select name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """``gunicorn wsgi:app`` from the repository root (its gunicorn.conf.py applies)."""

    def __init__(self, database_url: str, work: Path, **settings: str) -> None:
        self.port = _free_port()
        self.errors = work / "gunicorn.err"
        env = {
            **os.environ,
            "SURVEY_DATABASE_URL": database_url,
            "SURVEY_SECRET_KEY": secrets.token_hex(32),
            "SURVEY_INSTANCE_PATH": str(work / "instance"),
            "SURVEY_BASE_URL": "http://survey.test",
            "SURVEY_ACCESS_LOG": str(work / "access.log"),
            "PYTHONPATH": str(ROOT),
            **settings,
        }
        cmd = [str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "wsgi:app"]
        self._stderr = self.errors.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=self._stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + self.errors.read_text())

    def request(
        self, method: str, path: str, body: bytes | None = None, cookies: SimpleCookie | None = None
    ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"User-Agent": "Mozilla/5.0 (e2e) MicroMessenger/8.0"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            if cookies is not None:
                for value in resp.headers.get_all("Set-Cookie") or []:
                    cookies.load(value)
            return resp.status, text
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def fill(html: str) -> list[tuple[str, str]]:
    """Hidden fields and the first option of every question on the page."""
    pairs = HIDDEN.findall(html)
    seen: set[str] = set()
    for tag in CHOICE.finditer(html):
        attrs = dict(ATTR.findall(tag.group(0)))
        if attrs["name"] not in seen and attrs["value"] != "other":
            seen.add(attrs["name"])
            pairs.append((attrs["name"], attrs["value"]))
    for name, options in SELECT.findall(html):
        pairs.append((name, OPTION.findall(options)[0]))
    return pairs


@pytest.fixture
def served(seeded: Flask, database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(
        database_url,
        tmp_path,
        SURVEY_WORKERS="2",
        SURVEY_INTEGRITY_SWEEP_SECONDS="1",
        SURVEY_INTEGRITY_SETTLE_SECONDS="0",
        SURVEY_SCAN_FLUSH_SECONDS="1",
    )
    yield server
    server.stop()


def _wait(check, seconds: float = 90) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_the_served_app_sweeps_and_flushes_by_itself(seeded: Flask, served: Gunicorn) -> None:
    with seeded.app_context():
        code = db.session.execute(select(CollectionPoint.code)).scalars().first()
        db.session.rollback()
    assert code
    # One phone filling six forms one after another, its cookies dropped between forms.
    for _ in range(6):
        cookies: SimpleCookie = SimpleCookie()
        status, html = served.request("GET", f"/q/{code}", cookies=cookies)
        assert status == 200
        body = urlencode(fill(html)).encode()
        status, _ = served.request("POST", f"/q/{code}", body, cookies)
        assert status == 303

    def serial_flags() -> int:
        with seeded.app_context():
            n = db.session.execute(
                select(func.count()).where(ResponseFlag.code == "SERIAL")
            ).scalar_one()
            db.session.rollback()
            return int(n)

    assert _wait(lambda: serial_flags() >= 5), served.errors.read_text()[-3000:]
    with seeded.app_context():
        state = db.session.get(IntegrityState, 1)
        assert state is not None and state.swept_at is not None and state.failure is None
        flagged = db.session.execute(
            select(func.count()).where(
                Response.flags.bitwise_and(int(QualityFlag.SERIAL | QualityFlag.EXCLUDED))
                == int(QualityFlag.SERIAL | QualityFlag.EXCLUDED)
            )
        ).scalar_one()
        assert flagged >= 5
        db.session.rollback()

    def scans() -> int:
        with seeded.app_context():
            n = db.session.execute(select(func.sum(PointScanDaily.scans))).scalar_one()
            db.session.rollback()
            return int(n or 0)

    # The GETs were counted by the workers and written by their flush threads.
    assert _wait(lambda: scans() >= 5, 30)
    log = served.errors.read_text()
    assert "Working outside of application context" not in log
    assert "integrity-sweep failed" not in log and "scan-flush failed" not in log
