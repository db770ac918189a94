"""The signed form instance a resident page carries: who was served which form, and when.

The token holds a random instance id (a retried post stores nothing twice), the served
time (completion time is measured from it), the point and the device id. It is signed with
the app secret; a forged, edited or foreign token is simply not accepted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from survey.models.base import utcnow
from survey.services.device import signing_serializer

_SALT = "survey.form-instance"
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
