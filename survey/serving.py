"""How gunicorn serves the app (used by ``gunicorn.conf.py`` at the repository root).

- :class:`PrivacyLogger` writes the access log without the client address, user agent,
  referrer or forwarded headers for resident requests (everything outside ``/admin`` and
  ``/api``): a line with ``/q/<code>`` and the time would otherwise join a raw IP address
  to a stored response. Staff and API requests keep the full line (who did what, from
  where).
- :func:`limit_body_wait` gives a request's socket a read timeout before the app reads the
  body, so a client that announces a body and never sends it holds a worker thread for
  ``BODY_TIMEOUT`` seconds at most and then gets a 400 (``survey.web.hardening``).
- :func:`freeze_startup_heap` moves what a worker built at start (the app, SQLAlchemy's
  models, the imported pandas and SciPy behind the reports) out of the garbage collector's
  reach once the app is loaded.
- :func:`start_background` starts a worker's background jobs (the integrity sweep, the
  scan-tally flush; ``survey.services.integrity.background``) once the worker has loaded
  the app, with the application object itself: the server starts them, never a request.
"""

from __future__ import annotations

import gc
import logging
import traceback
from typing import Any

from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger

#: Paths whose access-log lines keep the client address (staff and API).
STAFF_PREFIXES: tuple[str, ...] = ("/admin", "/api")
#: Atoms blanked on resident lines: address, user agent, referrer.
PRIVATE_ATOMS: tuple[str, ...] = ("h", "a", "f")
#: Request headers never logged for residents (they carry addresses or identify devices).
PRIVATE_HEADERS: tuple[str, ...] = (
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "cookie",
    "user-agent",
    "referer",
)
_PRIVATE_KEYS = (
    "{remote_addr}e",
    *(f"{{{h}}}i" for h in PRIVATE_HEADERS),
    *(f"{{http_{h.replace('-', '_')}}}e" for h in PRIVATE_HEADERS),
)
#: Seconds a worker waits for the next piece of a request body.
BODY_TIMEOUT = 10.0


def is_resident_path(path: str) -> bool:
    """True for what residents request (questionnaires, the landing page, their assets)."""
    return not any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


#: gunicorn's default ``access_log_format`` (what ``make run`` logs with).
DEFAULT_ACCESS_FORMAT: str = AccessLogFormat.default


class PrivacyLogger(Logger):
    """gunicorn's logger, with resident requests logged without their address.

    With the default format a resident line is written directly: gunicorn's
    :meth:`atoms` builds a dict of every request header, response header and environ
    variable for each request (about a third of a millisecond, on every resident page);
    the line is the same as the blanked atoms would give.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one request (resident lines without address, agent and referrer)."""
        if (
            not self.access_log_enabled
            or self.cfg.access_log_format != DEFAULT_ACCESS_FORMAT
            or not is_resident_path(environ.get("PATH_INFO", ""))
        ):
            super().access(resp, req, environ, request_time)
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        user = (self._get_user(environ) or "-") if "HTTP_AUTHORIZATION" in environ else "-"
        method, uri, protocol = (
            environ["REQUEST_METHOD"],
            environ["RAW_URI"],
            environ["SERVER_PROTOCOL"],
        )
        size = str(sent) if sent is not None and sent else "-"
        line = f'- - {user} {self.now()} "{method} {uri} {protocol}" {status} {size} "-" "-"'
        try:
            self.access_log.info(line)
        except Exception:
            self.error(traceback.format_exc())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        """The access-log atoms; on resident lines the private ones are ``-``."""
        atoms = super().atoms(resp, req, environ, request_time)
        if is_resident_path(environ.get("PATH_INFO", "")):
            for name in (*PRIVATE_ATOMS, *_PRIVATE_KEYS):
                if name in atoms:
                    atoms[name] = "-"
        return atoms


def limit_body_wait(req: Any, seconds: float = BODY_TIMEOUT) -> None:
    """Put a read timeout on the socket of ``req`` before the app reads its body."""
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if sock is not None and hasattr(sock, "settimeout"):
        sock.settimeout(seconds)


def flask_app_of(wsgi: Any) -> Any:
    """The Flask application behind a WSGI callable (``wsgi:app``, or middleware around it)."""
    from flask import Flask

    seen = 0
    while not issubclass(type(wsgi), Flask) and seen < 10:
        wsgi = getattr(wsgi, "app", None) or getattr(wsgi, "wsgi_app", None)
        seen += 1
    if not issubclass(type(wsgi), Flask):
        raise TypeError("the served WSGI application is not a Flask app")
    return wsgi


def start_background(worker: Any) -> Any:
    """Start the background jobs of the app ``worker`` serves (gunicorn's post_worker_init).

    None (and a warning) when the worker has loaded no application.
    """
    from survey.services.integrity.background import start

    wsgi = getattr(worker, "wsgi", None)
    if wsgi is None:
        logging.getLogger(__name__).warning("no application loaded: no background jobs")
        return None
    return start(flask_app_of(wsgi))


def freeze_startup_heap() -> int:
    """Collect once, then freeze every object alive (``gc.freeze``); returns how many.

    A worker starts with some 220,000 container objects (Flask, SQLAlchemy's models, and
    pandas, NumPy and SciPy, which the reports import). They live as long as the worker,
    yet every full collection walked all of them again: about 3% of a resident request's
    CPU went to the collector. Frozen, they are never examined again; objects made by
    requests are collected as before. Measured with ``benchmarks/load.py``'s servers in
    alternating rounds: 11.4 -> 10.7 ms server CPU per resident flow (median of 4).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
