"""The signed tokens a resident page carries: the form instance and the CSRF token.

The form instance holds a random instance id (a retried post stores nothing twice), the
served time (completion time is measured from it), the point and the device id. It is
signed with the app secret; a forged, edited or foreign token is simply not accepted.

The CSRF token binds the page to the resident's device cookie (a signed double-submit
cookie): it is a timed signature over a keyed digest of the device id, and a post is
accepted only with the device cookie whose id it was made for, within
``WTF_CSRF_TIME_LIMIT``. Another site can neither read nor set that cookie, and
``SameSite=Lax`` keeps it off cross-site posts. Resident pages therefore need no session:
no session cookie to verify, decode and sign again on each of their requests.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from itsdangerous import URLSafeTimedSerializer

from survey.models.base import utcnow
from survey.services.device import signing_serializer
from survey.services.network import keyed_hash

_SALT = "survey.form-instance"
_CSRF_SALT = "survey.resident-csrf"
#: Longest token accepted (a genuine one is about 150 characters).
MAX_TOKEN_LENGTH = 400


@dataclass(frozen=True)
class FormInstance:
    """A verified form instance."""

    instance_id: str
    served_at: dt.datetime
    device_id: str


def _serializer() -> URLSafeSerializer:
    return signing_serializer(_SALT)


def sign_instance(point_id: int, device_id: str) -> str:
    """A fresh signed form instance for ``point_id`` served now to ``device_id``."""
    served = utcnow().timestamp()
    payload = {"i": secrets.token_urlsafe(16), "t": round(served, 3), "p": point_id, "d": device_id}
    return _serializer().dumps(payload)


def load_instance(point_id: int, token: str) -> FormInstance | None:
    """The form instance in a valid token issued for ``point_id``, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload: Any = _serializer().loads(token)
    except BadSignature:
        return None
    try:
        instance_id, served, token_point, device_id = (
            payload["i"],
            payload["t"],
            payload["p"],
            payload["d"],
        )
        served_at = dt.datetime.fromtimestamp(float(served), dt.UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if token_point != point_id or not isinstance(instance_id, str):
        return None
    if not isinstance(device_id, str):
        return None
    return FormInstance(instance_id, served_at, device_id)


def _csrf_serializer() -> URLSafeTimedSerializer:
    return signing_serializer(_CSRF_SALT, timed=True)  # type: ignore[return-value]


def _device_binding(device_id: str) -> str:
    return keyed_hash("resident-csrf", device_id)


def resident_csrf(device_id: str) -> str:
    """The CSRF token of a resident page served to ``device_id``."""
    return _csrf_serializer().dumps(_device_binding(device_id))


def check_resident_csrf(token: str | None, device_id: str | None) -> bool:
    """True when ``token`` was made for ``device_id`` (the request's device cookie) and is
    younger than ``WTF_CSRF_TIME_LIMIT`` seconds."""
    if not token or device_id is None or len(token) > MAX_TOKEN_LENGTH:
        return False
    try:
        bound = _csrf_serializer().loads(
            token, max_age=int(current_app.config["WTF_CSRF_TIME_LIMIT"])
        )
    except BadSignature:  # SignatureExpired is one
        return False
    return isinstance(bound, str) and compare_digest(bound, _device_binding(device_id))
