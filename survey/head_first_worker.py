"""gunicorn's gthread worker, but a connection gets a thread only once its request is in.

gunicorn's ``gthread`` worker gives a connection to a pool thread as soon as its first bytes
arrive; the thread then reads the request head with blocking ``recv`` calls and no time
limit. A client that trickles its head a byte at a time holds that thread for as long as it
likes: sixteen of them stalled ``make run``'s eight threads and the residents' form took
28 s (issue 23). Here the thread reads only what has already arrived (a non-blocking
``recv``); while the head (up to the blank line) is incomplete, the connection goes back to
the worker's poller, where waiting costs no thread, and it is closed with ``408 Request
Timeout`` once ``SURVEY_HEAD_TIMEOUT`` seconds (default 10) have passed since its first
byte. A body of announced length up to ``SURVEY_MAX_CONTENT_LENGTH`` is gathered the same
way (at most ``SURVEY_BODY_TIMEOUT`` seconds between two reads, else 408), so a body that
trickles in holds no thread either. The complete request is handed to gunicorn's own
parser unchanged (the bytes are put back into its read buffer); a chunked or larger body
goes on as it comes (``gunicorn.conf.py`` bounds each read at ``SURVEY_BODY_TIMEOUT``).

A silent connection waits as in gthread (a thread polls it for up to 5 s, then the poller
keeps it for the keep-alive time). A head split over pauses of more than the keep-alive
time (2 s in ``gunicorn.conf.py``) is closed by gunicorn's own pending-connection sweep;
browsers send a head in one write. TLS and HTTP/2 connections are left to gthread as they
are (``make run`` serves neither; behind nginx they end at the proxy).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from typing import Any

from gunicorn.workers import gthread

#: Seconds a request head may take from its first byte to its blank line.
HEAD_TIMEOUT = float(os.environ.get("SURVEY_HEAD_TIMEOUT", "10"))
#: Seconds a body of announced length may take to arrive after its head.
BODY_TIMEOUT = float(os.environ.get("SURVEY_BODY_TIMEOUT", "10"))
#: Largest body gathered here (``SURVEY_MAX_CONTENT_LENGTH``); a larger one (which the app
#: refuses with 413) or a chunked one goes to gunicorn's parser as it comes.
MAX_BODY = int(os.environ.get("SURVEY_MAX_CONTENT_LENGTH", str(64 * 1024)))
#: Largest head gathered here; a longer one goes to gunicorn's parser (which refuses it).
MAX_HEAD = 64 * 1024
_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*([0-9]{1,12})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:", re.I | re.M)
_TIMEOUT_BODY = "请求超时，请重试。\n".encode()
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    + f"Content-Length: {len(_TIMEOUT_BODY)}\r\n\r\n".encode()
    + _TIMEOUT_BODY
)


class HeadFirstWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread, with request heads gathered without holding a thread (see the module)."""

    def handle(self, conn: Any) -> Any:
        """Hand the connection to gthread once its head is in; else back to the poller."""
        if self.cfg.is_ssl or conn.is_http2 or _has_read_ahead(conn):
            return super().handle(conn)
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER
        verdict = gather_head(conn)
        if verdict == "wait":
            conn.data_ready = False
            return gthread._DEFER
        if verdict == "closed":
            return False
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Close pending connections past their time: a partial request at its own deadline
        (with 408), a silent one at gunicorn's (the keep-alive time)."""
        now = time.monotonic()
        for conn in list(self.pending_conns):
            deadline = getattr(conn, "survey_deadline", None)
            if (deadline if deadline is not None else conn.timeout) > now:
                continue
            self.pending_conns.remove(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)  # unless already unregistered
            self.nr_conns -= 1
            if deadline is not None:
                _refuse(conn)
            conn.close()


def _has_read_ahead(conn: Any) -> bool:
    """True when gunicorn already holds bytes of the next request (pipelining)."""
    parser = conn.parser
    unreader = getattr(parser, "unreader", None)
    return unreader is not None and bool(unreader.buf.getvalue())


def gather_head(conn: Any, now: float | None = None) -> str:
    """Read what has arrived; ``"ready"`` (bytes handed to the parser), ``"wait"`` (with
    ``conn.survey_deadline`` set) or ``"closed"`` (the client went away)."""
    now = time.monotonic() if now is None else now
    buffered: bytes = getattr(conn, "survey_head", b"")
    data = _recv_available(conn)
    if data == b"":
        return "closed"
    if data:
        buffered += data
        if not buffered.strip(b"\r\n"):
            buffered = b""  # blank lines between requests do not start a head
    if not buffered:
        return "wait"
    started = getattr(conn, "survey_head_started", None) or now
    deadline = missing_until(buffered, started, now)
    if deadline is None:
        _hand_over(conn, buffered)
        return "ready"
    conn.survey_head, conn.survey_head_started, conn.survey_deadline = buffered, started, deadline
    return "wait"


def missing_until(buffered: bytes, started: float, now: float) -> float | None:
    """None when ``buffered`` holds a whole request head (and its body of announced length,
    up to ``MAX_BODY``); else the time by which the rest must have come."""
    end = _head_end(buffered)
    if end is None:
        return None if len(buffered) >= MAX_HEAD else started + HEAD_TIMEOUT
    head = buffered[:end]
    length = _LENGTH.search(head)
    if length is None or _CHUNKED.search(head) or int(length.group(1)) > MAX_BODY:
        return None
    if len(buffered) - end >= int(length.group(1)):
        return None
    return max(started + HEAD_TIMEOUT, now + BODY_TIMEOUT)


def _head_end(buffered: bytes) -> int | None:
    found = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := buffered.find(sep)) >= 0]
    return min(found) if found else None


def _recv_available(conn: Any) -> bytes | None:
    """What the socket holds now (None: nothing; ``b""``: the client closed or failed)."""
    conn.sock.setblocking(False)
    try:
        return conn.sock.recv(MAX_HEAD + MAX_BODY)  # type: ignore[no-any-return]
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""
    finally:
        conn.sock.setblocking(True)


def _hand_over(conn: Any, head: bytes) -> None:
    conn.survey_head, conn.survey_head_started, conn.survey_deadline = b"", None, None
    conn.init()
    conn.parser.unreader.unread(head)
    conn.data_ready = True


def _refuse(conn: Any) -> None:
    """Send the 408, and read what the client sent meanwhile (closing a socket with unread
    bytes resets the connection, and the client may then lose the answer)."""
    with contextlib.suppress(OSError):
        conn.sock.sendall(TIMEOUT_RESPONSE)
    conn.sock.setblocking(False)
    with contextlib.suppress(OSError):
        while conn.sock.recv(65536):
            pass
