"""Issue 13, items 5, 9 and 10 under the real server: ``gunicorn -c gunicorn.conf.py``.

Slow clients that announce a body and never send it do not hold the workers (the health
check answers at once) and are cut off with a 408 (a 400 before issue 23); a malformed
chunked body is a 400;
resident requests are logged without the client address, staff requests with it; the
SQLite database and its WAL files are owner-only; the instance folder too; ``survey
bootstrap`` never prints a demo password that was changed.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from flask import Flask

from tests.conftest import _config

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A gunicorn started from the repository root with its gunicorn.conf.py."""

    def __init__(
        self, database_url: str, work: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = _free_port()
        self.log = work / "access.log"
        self.instance = work / "instance"
        env = {
            **os.environ,
            "SURVEY_DATABASE_URL": database_url,
            "SURVEY_SECRET_KEY": secrets.token_hex(32),
            "SURVEY_INSTANCE_PATH": str(self.instance),
            "SURVEY_BASE_URL": "http://survey.test",
            "SURVEY_ACCESS_LOG": str(self.log),
            "SURVEY_BODY_TIMEOUT": "2",
            "SURVEY_WORKERS": "1",
            "SURVEY_THREADS": "4",
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        cmd = [str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.stderr = (work / "gunicorn.err").open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=self.stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                if self.request(health).startswith(b"HTTP/1.1 200"):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + (work / "gunicorn.err").read_text())

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def request(self, raw: bytes) -> bytes:
        with self.connect() as sock:
            sock.sendall(raw)
            return _read_all(sock)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


@pytest.fixture
def server(seeded: Flask, database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, tmp_path)
    yield running
    running.stop()


def _code(app: Flask) -> str:
    from survey.extensions import db
    from survey.models import CollectionPoint

    with app.app_context():
        code = db.session.execute(db.select(CollectionPoint.code)).scalars().first()
        assert code is not None
        return code


@pytest.mark.slow
def test_slow_clients_do_not_hold_the_workers(seeded: Flask, server: Server) -> None:
    code = _code(seeded)
    announce = (
        f"POST /q/{code} HTTP/1.1\r\nHost: survey.test\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    slow = [server.connect() for _ in range(3)]  # more than the one worker's spare threads
    for sock in slow:
        sock.sendall(announce)  # ... and never the body
    time.sleep(0.5)
    started = time.monotonic()
    health = server.request(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200")
    assert time.monotonic() - started < 1.5
    # The stalled bodies are cut after the body timeout with a 408 (issue 23: the worker
    # waits for a body in its poller, survey.head_first_worker), not left hanging.
    for sock in slow:
        answer = _read_all(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]


@pytest.mark.slow
def test_malformed_chunked_body_is_a_400_on_the_wire(seeded: Flask, server: Server) -> None:
    code = _code(seeded)
    for path in (f"/q/{code}", "/admin/login"):
        raw = (
            f"POST {path} HTTP/1.1\r\nHost: survey.test\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
            "zz\r\nnot a chunk\r\n0\r\n\r\n"
        ).encode()
        answer = server.request(raw)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:120]


@pytest.mark.slow
def test_resident_lines_are_logged_without_the_address(
    seeded: Flask, server: Server, database_url: str
) -> None:
    code = _code(seeded)
    headers = "Host: survey.test\r\nUser-Agent: ResidentPhone/1.0\r\nConnection: close\r\n"
    headers += "X-Forwarded-For: 198.51.100.77\r\nReferer: http://wx.example/article\r\n"
    server.request(f"GET /q/{code} HTTP/1.1\r\n{headers}\r\n".encode())
    server.request(f"GET /q/{code}/thanks HTTP/1.1\r\n{headers}\r\n".encode())
    server.request(b"GET /admin/login HTTP/1.1\r\nHost: x\r\nUser-Agent: StaffPC\r\n\r\n")
    server.stop()  # flush the log
    lines = server.log.read_text().splitlines()
    resident = [ln for ln in lines if f"/q/{code}" in ln]
    staff = [ln for ln in lines if "/admin/login" in ln]
    assert len(resident) == 2 and staff
    for line in resident:
        assert "127.0.0.1" not in line and "198.51.100.77" not in line, line
        assert "ResidentPhone" not in line and "wx.example" not in line, line
    assert "127.0.0.1" in staff[0] and "StaffPC" in staff[0]
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(server.instance.stat().st_mode) == 0o700


def test_new_sqlite_database_and_instance_are_owner_only(tmp_path: Path) -> None:
    from survey import create_app
    from survey.extensions import db
    from survey.migrate import upgrade

    old = os.umask(0o022)
    try:
        instance = tmp_path / "instance"
        path = instance / "survey.db"
        cfg = _config(f"sqlite:///{path}", instance)
        del cfg["SQLALCHEMY_ENGINE_OPTIONS"]
        app = create_app(cfg)
        upgrade(app)
        with app.app_context():
            with db.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), instance / "secret_key"]
                for file in files:
                    if file.exists():
                        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
            db.engine.dispose()
        assert stat.S_IMODE(instance.stat().st_mode) == 0o700
        # A folder and database left readable by others are narrowed on the next start.
        instance.chmod(0o755)
        path.chmod(0o644)
        app = create_app(cfg)
        with app.app_context(), db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert stat.S_IMODE(instance.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with app.app_context():
            db.engine.dispose()
    finally:
        os.umask(old)


def test_bootstrap_never_prints_a_changed_demo_password(app: Flask) -> None:
    from survey.bootstrap import bootstrap
    from survey.extensions import db
    from survey.services.users import get_by_username
    from survey.services.users import set_password

    with app.app_context():
        first = bootstrap()
        assert len(first.admin_password) >= 12
        assert bootstrap().admin_password == first.admin_password  # unchanged: same
        admin = get_by_username("admin")
        assert admin is not None
        set_password(admin, "the operator's own password")
        db.session.commit()
        again = bootstrap()
        assert first.admin_password not in again.admin_password
        assert "changed" in again.admin_password
        assert not (Path(app.instance_path) / "demo_admin_password").exists()


class _Resp:
    status = "200 OK"
    sent = 24319
    headers: ClassVar[list[tuple[str, str]]] = [("Content-Type", "text/html")]


def _logged_lines(path: str, environ_extra: dict[str, str]) -> tuple[str, str]:
    """The line PrivacyLogger writes for ``path``, and the one gunicorn's own atoms give."""
    import datetime as dt
    import logging

    from gunicorn.config import Config

    from survey.serving import PrivacyLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    log = PrivacyLogger(cfg)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    log.access_log.handlers[:] = [Keep()]
    log.now = lambda: "[01/Dec/2026:21:00:00 +0000]"  # type: ignore[method-assign]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path + "?x=1",
        "PATH_INFO": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "ResidentPhone/1.0",
        "HTTP_REFERER": "http://wx.example/a",
        **environ_extra,
    }
    req = [("User-Agent", "ResidentPhone/1.0")]
    took = dt.timedelta(microseconds=1500)
    log.access(_Resp(), req, environ, took)
    # What gunicorn's general path writes with the same (blanked) atoms.
    from gunicorn.glogging import Logger

    Logger.access(log, _Resp(), req, environ, took)
    assert len(lines) == 2
    return lines[0], lines[1]


@pytest.mark.parametrize("path", ["/q/ABCD2345", "/q/ABCD2345/thanks", "/", "/static/public.css"])
@pytest.mark.parametrize("auth", [{}, {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="}])
def test_resident_line_written_directly_equals_the_blanked_atoms(
    path: str, auth: dict[str, str]
) -> None:
    direct, general = _logged_lines(path, auth)
    assert direct == general
    assert direct.startswith("- - ") and "203.0.113.9" not in direct
    assert "ResidentPhone" not in direct and "wx.example" not in direct
    assert f'"GET {path}?x=1 HTTP/1.1" 200 24319' in direct


def test_staff_line_keeps_the_address() -> None:
    direct, general = _logged_lines("/admin/login", {})
    assert direct == general
    assert direct.startswith("203.0.113.9 ") and "ResidentPhone" in direct


def test_workers_freeze_their_startup_heap() -> None:
    import gc
    import runpy

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    before = gc.get_freeze_count()
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > before + 1000  # the imported modules, at least
        garbage: list[object] = []
        garbage.append(garbage)  # a cycle made after the freeze is still collected
        del garbage
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
