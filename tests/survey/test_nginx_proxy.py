"""Issue 23, item 10: the shipped nginx settings (deploy/nginx-survey.conf) in front of a real
gunicorn (gunicorn.conf.py, one worker of 4 threads) shed slow clients.

Sixteen clients open connections through the proxy: eight trickle their request head a
byte at a time, eight announce a body and stall. Meanwhile a resident opens the form and
answers it through the proxy (200, then 303). The proxy cuts all sixteen with 408 (its
access log says so, and their connections are closed), and gunicorn never sees one of
their requests (its access log has the resident's lines and none of theirs). No assertion
is on wall time: ``benchmarks/slow_clients.py`` measures the form's latency.

nginx comes from apt (``.ci/run``); without it the test is skipped locally and fails in CI.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask

from tests.conftest import IN_CI
from tests.survey.public.conftest import valid_answers
from tests.survey.test_serving import ROOT
from tests.survey.test_serving import Server
from tests.survey.test_serving import _code
from tests.survey.test_serving import _free_port

SHIPPED = ROOT / "deploy" / "nginx-survey.conf"
TRICKLERS = 8
STALLERS = 8


def nginx_binary() -> str:
    """Debian's nginx; skipped locally when missing, an error in CI."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None
    )
    if found is None:
        if IN_CI:
            pytest.fail("nginx is missing in CI: .ci/run must install it from apt")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return found


class Proxy:
    """nginx in a temporary prefix, listening on a random loopback port, in front of
    ``upstream`` with the shipped server settings included verbatim."""

    def __init__(self, binary: str, upstream: int, work: Path) -> None:
        self.port = _free_port()
        self.prefix = work / "nginx"
        for sub in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        self.access_log = self.prefix / "logs" / "access.log"
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.prefix}/logs/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  log_format t '$status \"$request\" $request_time';\n"
            f"  access_log {self.access_log} t;\n"
            f"  client_body_temp_path {self.prefix}/body;\n"
            f"  proxy_temp_path {self.prefix}/proxy;\n"
            f"  fastcgi_temp_path {self.prefix}/fastcgi;\n"
            f"  uwsgi_temp_path {self.prefix}/uwsgi;\n"
            f"  scgi_temp_path {self.prefix}/scgi;\n"
            f"  upstream survey_app {{ server 127.0.0.1:{upstream}; }}\n"
            f"  server {{\n    listen 127.0.0.1:{self.port};\n    include {SHIPPED};\n  }}\n"
            "}\n"
        )
        checked = subprocess.run(
            [binary, "-t", "-p", str(self.prefix), "-c", str(conf)], capture_output=True
        )
        assert checked.returncode == 0, checked.stderr.decode()
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(conf)], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start: " + (self.prefix / "logs/error.log").read_text())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def proxied(seeded: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[Server, Proxy]]:
    binary = nginx_binary()
    server = Server(database_url, tmp_path)
    try:
        proxy = Proxy(binary, server.port, tmp_path)
        try:
            yield server, proxy
        finally:
            proxy.stop()
    finally:
        server.stop()


def _trickle_head(port: int, code: str, n: int, closed: list[bytes]) -> None:
    """A request head a byte every half second, until the proxy hangs up."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(f"GET /q/{code}?trickle=head{n} HTTP/1.1\r\nHost: survey.test\r\n".encode())
        for byte in b"X-Slow: " + b"a" * 200:
            sock.sendall(bytes([byte]))
            time.sleep(0.5)
    except OSError:
        pass  # the proxy closed the connection
    finally:
        sock.settimeout(30)
        try:
            closed.append(sock.recv(65536))
        except OSError:
            closed.append(b"")
        sock.close()


def _stall_body(port: int, code: str, n: int, closed: list[bytes]) -> None:
    """A POST that announces 1,000 bytes, sends 10 and stalls."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            (
                f"POST /q/{code}?trickle=body{n} HTTP/1.1\r\nHost: survey.test\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1000\r\n\r\nage_group="
            ).encode()
        )
        try:
            closed.append(sock.recv(65536))  # nothing until the proxy gives up
        except OSError:
            closed.append(b"")


def _resident(port: int, code: str, street: str) -> tuple[int, int]:
    """GET the form and POST valid answers through the proxy; the two statuses."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/q/{code}", headers={"Host": "survey.test"})
    page = conn.getresponse()
    html = page.read().decode()
    cookies = "; ".join(c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") or [])
    inst = re.search(r'name="_inst" value="([^"]+)"', html)
    assert inst, html[:200]
    pairs = [("_inst", inst.group(1))]
    for key, value in valid_answers(street).items():
        pairs += [(key, v) for v in (value if isinstance(value, list) else [value])]
    conn.request(
        "POST",
        f"/q/{code}",
        body=urlencode(pairs),
        headers={
            "Host": "survey.test",
            "Cookie": cookies,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return page.status, answer.status


@pytest.mark.slow
def test_the_proxy_sheds_slow_clients(seeded: Flask, proxied: tuple[Server, Proxy]) -> None:
    server, proxy = proxied
    code = _code(seeded)
    street = _street(seeded)
    closed: list[bytes] = []
    clients = [
        threading.Thread(target=_trickle_head, args=(proxy.port, code, n, closed))
        for n in range(TRICKLERS)
    ] + [
        threading.Thread(target=_stall_body, args=(proxy.port, code, n, closed))
        for n in range(STALLERS)
    ]
    for t in clients:
        t.start()
    time.sleep(1.0)  # all sixteen are connected and slow
    assert _resident(proxy.port, code, street) == (200, 303)
    assert _resident(proxy.port, code, street) == (200, 303)
    for t in clients:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in clients), "the proxy left a slow client connected"
    assert len(closed) == TRICKLERS + STALLERS
    # nginx closes a timed-out request without an answer (RFC 9110 allows either).
    assert all(b == b"" or b.startswith(b"HTTP/1.1 408") for b in closed), closed
    lines = proxy.access_log.read_text().splitlines()
    cut = [line for line in lines if "trickle=" in line]
    assert len(cut) == TRICKLERS + STALLERS, lines
    assert all(line.startswith("408 ") for line in cut), cut
    seen = server.log.read_text()
    assert "trickle=" not in seen  # no slow request ever reached a worker thread
    assert seen.count(f"POST /q/{code}") == 2 and seen.count(f"GET /q/{code}") == 2


def _street(app: Flask) -> str:
    from survey.extensions import db
    from survey.models import Region

    with app.app_context():
        street = (
            db.session.execute(
                db.select(Region.code).where(Region.level == "street").order_by(Region.code)
            )
            .scalars()
            .first()
        )
        assert street is not None
        return street
