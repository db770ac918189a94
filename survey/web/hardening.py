"""What every response and request goes through: proxies, request bodies, security headers.

- ``SURVEY_TRUSTED_PROXIES`` (a number, default 0): how many proxies in front of the app
  may set ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port``/``-Prefix``. Behind one TLS
  proxy it is 1, so the client address (login throttling, access logs) and the scheme
  (``Secure`` cookies, ``request.is_secure``) are the real ones; with 0 those headers are
  ignored, as anyone could send them.
- A request body that cannot be read (a malformed chunked body, a client that stalls past
  the server's read timeout or hangs up) is a 400 with the usual page, never a 500.
- Every response carries a Content-Security-Policy (``frame-ancestors 'none'`` and
  ``X-Frame-Options: DENY`` so staff buttons cannot be clickjacked, scripts only from this
  site), ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` that keeps resident
  links (which carry a point's code) from leaking to other sites; HTTPS responses also
  ``Strict-Transport-Security``. The headers are built once per app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from typing import IO
from typing import Any

from flask import Flask
from flask import abort
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from survey.errors import ConfigError

#: Sent on every response; the policy allows only this site's own scripts, styles, images
#: and forms, no plugins, no framing. Inline styles stay allowed (style attributes in
#: templates and inline SVG charts); inline scripts do not.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Install the proxy fix, the request-body guard and the security headers."""
    proxies = trusted_proxies(app.config.get("TRUSTED_PROXIES", 0))
    headers = security_headers(app)
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        BodyGuard(app.wsgi_app), headers, [*headers, ("Strict-Transport-Security", HSTS)]
    )
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=proxies,
            x_proto=proxies,
            x_host=proxies,
            x_port=proxies,
            x_prefix=proxies,
        )

    @app.before_request
    def _refuse_control_characters() -> None:
        # No page takes control characters in its query string (PostgreSQL cannot even
        # compare a text with NUL): a 400 here instead of an error in the database.
        if _CONTROL.search(request.query_string.decode("latin-1")):
            abort(400)


#: Percent-encoded C0 control characters (tab, CR and LF included: no filter value has them).
_CONTROL = re.compile(r"%(?:[01][0-9a-fA-F]|7[fF])")


def trusted_proxies(value: Any) -> int:
    """``SURVEY_TRUSTED_PROXIES`` as a count of proxies (0 when unset)."""
    try:
        count = int(value or 0)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"SURVEY_TRUSTED_PROXIES must be a number of proxies (0, 1, ...), got {value!r}"
        ) from exc
    if not 0 <= count <= 10:
        raise ConfigError(f"SURVEY_TRUSTED_PROXIES must be between 0 and 10, got {count}")
    return count


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries (the policy from ``CONTENT_SECURITY_POLICY``)."""
    return [
        ("Content-Security-Policy", str(app.config.get("CONTENT_SECURITY_POLICY") or DEFAULT_CSP)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


class SecurityHeaders:
    """WSGI middleware: the security headers, built once per app, added to every response.

    Added where the response starts (inside ``ProxyFix``, so HTTPS is known): cheaper than
    werkzeug's header list in an ``after_request`` hook, and on every response, error pages
    and static files included. No view sets these headers itself.
    """

    def __init__(
        self, app: Any, headers: list[tuple[str, str]], secure_headers: list[tuple[str, str]]
    ) -> None:
        self.app = app
        self.headers = list(headers)
        self.secure_headers = list(secure_headers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        extra = self.secure_headers if environ.get("wsgi.url_scheme") == "https" else self.headers

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start)  # type: ignore[no-any-return]


class BodyGuard:
    """WSGI middleware: a request body that fails to read raises ``BadRequest`` (400).

    Servers raise their own errors from ``wsgi.input`` when a body is malformed (gunicorn's
    ``InvalidChunkSize``, ``ChunkMissingTerminator``, ...), when the client stalls past the
    socket timeout or hangs up. Inside Flask those would be unexpected errors (500); here
    they become the 400 the client caused.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        stream = environ.get("wsgi.input")
        has_body = environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING")
        if stream is not None and has_body:
            environ["wsgi.input"] = GuardedInput(stream)
        return self.app(environ, start_response)  # type: ignore[no-any-return]


class GuardedInput:
    """A ``wsgi.input`` whose read errors are ``BadRequest``."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _guard(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, method)(*args)
        except HTTPException:
            raise
        except Exception as exc:  # the body is the client's: any failure to read it is theirs
            raise BadRequest("The request body could not be read.") from exc

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative or None)."""
        return self._guard("read", -1 if size is None else size)  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line."""
        return self._guard("readline", -1 if size is None else size)  # type: ignore[no-any-return]

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read every line."""
        return self._guard("readlines", hint)  # type: ignore[no-any-return]

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer`` (with ``read`` when the server's stream has no ``readinto``)."""
        if hasattr(self._stream, "readinto"):
            return self._guard("readinto", buffer)  # type: ignore[no-any-return]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
