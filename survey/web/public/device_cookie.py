"""The device cookie of resident pages: read from the request, set on the response.

The value is signed and verified by ``survey.services.device`` (which never sees Flask's
request or response); the cookie's name and lifetime are settings.
"""

from __future__ import annotations

from flask import Request
from flask import Response
from flask import current_app

from survey.services import device


def read_device_id(request: Request) -> str | None:
    """The device id from a validly signed cookie, or None."""
    return device.device_from_token(request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"]))


def set_device_cookie(response: Response, device_id: str, secure: bool) -> None:
    """Attach the long-lived signed device cookie to ``response``."""
    response.set_cookie(
        current_app.config["DEVICE_COOKIE_NAME"],
        device.device_token(device_id),
        max_age=current_app.config["DEVICE_COOKIE_MAX_AGE"],
        httponly=True,
        samesite="Lax",
        # Secure on HTTPS requests (ProxyFix tells behind a TLS proxy) and on HTTPS sites.
        secure=secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/",
    )
