"""Issue 23, item 10, ``make run``'s own server: request heads that trickle in do not hold
worker threads (``survey.head_first_worker``), under ``gunicorn -c gunicorn.conf.py``.

Eight clients (twice the one worker's four threads) send a request head a byte at a time,
eight more a body. While they do, a resident opens the form and the health check answers;
the head tricklers are answered ``408 Request Timeout`` once ``SURVEY_HEAD_TIMEOUT`` has
passed, and none of the sixteen requests reached the app (the access log has none).
Complete requests (keep-alive, pipelined, a head in two writes) are served as before.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.survey.test_serving import Server
from tests.survey.test_serving import _code
from tests.survey.test_serving import _read_all

TRICKLERS = 8


@pytest.fixture
def server(seeded: Flask, database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, tmp_path, {"SURVEY_HEAD_TIMEOUT": "3"})
    yield running
    running.stop()


def _trickle(port: int, code: str, n: int, answers: list[bytes]) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(f"GET /q/{code}?trickle={n} HTTP/1.1\r\nHost: survey.test\r\n".encode())
        for byte in b"X-Slow: " + b"a" * 100:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered (and closes): stop sending, read it
            sock.sendall(bytes([byte]))
            time.sleep(0.25)
    except OSError:
        pass  # cut by the server
    finally:
        answers.append(_read_until_closed(sock))
        sock.close()


def _read_until_closed(sock: socket.socket) -> bytes:
    """What the server sent before it closed (a reset after its answer keeps the answer)."""
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def _trickle_body(port: int, code: str, n: int, stop: threading.Event) -> None:
    """A POST whose body comes a byte every quarter second (never a gap the server cuts)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"POST /q/{code}?trickle=body{n} HTTP/1.1\r\nHost: survey.test\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n"
            "\r\n".encode()
        )
        while not stop.is_set():
            sock.sendall(b"a")
            time.sleep(0.25)


@pytest.mark.slow
def test_trickled_heads_and_bodies_hold_no_thread(seeded: Flask, server: Server) -> None:
    code = _code(seeded)
    answers: list[bytes] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_trickle, args=(server.port, code, n, answers))
        for n in range(TRICKLERS)
    ]
    bodies = [
        threading.Thread(target=_trickle_body, args=(server.port, code, n, stop))
        for n in range(TRICKLERS)
    ]
    for t in clients + bodies:
        t.start()
    time.sleep(1.0)  # all sixteen are connected and trickling
    form = server.request(
        f"GET /q/{code} HTTP/1.1\r\nHost: survey.test\r\nConnection: close\r\n\r\n".encode()
    )
    assert form.startswith(b"HTTP/1.1 200")
    health = server.request(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200")
    for t in clients:
        t.join(timeout=60)
    stop.set()  # the trickling bodies were still being gathered, holding no thread
    for t in bodies:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in clients + bodies)
    assert len(answers) == TRICKLERS
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), [a[:40] for a in answers]
    assert "请求超时" in answers[0].decode()
    assert "trickle=" not in server.log.read_text()


@pytest.mark.slow
def test_complete_heads_are_served_as_before(seeded: Flask, server: Server) -> None:
    code = _code(seeded)
    health = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with server.connect() as sock:  # keep-alive, then two pipelined requests in one write
        sock.sendall(health)
        first = sock.recv(65536)
        sock.sendall(health + health.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        rest = _read_all(sock)
    assert first.startswith(b"HTTP/1.1 200") and rest.count(b"HTTP/1.1 200") == 2
    # A head split over two writes, then a body: a POST the form refuses with a 400 page.
    with server.connect() as sock:
        sock.sendall(f"POST /q/{code} HTTP/1.1\r\nHost: survey.test\r\n".encode())
        time.sleep(0.3)
        sock.sendall(
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n"
            b"Connection: close\r\n\r\n"
        )
        time.sleep(0.3)
        sock.sendall(b"a=b&c")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
