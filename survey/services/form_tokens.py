"""The signed form instance a resident page carries, which is also its CSRF token.

The form instance holds a random instance id (a retried post stores nothing twice), the
served time (completion time is measured from it), the point and the device id. It is
signed with the app secret; a forged, edited or foreign token is simply not accepted.

It binds the page to the resident's device cookie (a signed double-submit cookie): a post
is accepted only with the device cookie whose id the page was served to, within
``WTF_CSRF_TIME_LIMIT`` of serving it (:func:`instance_owned`). Another site can neither
read the page nor read or set that cookie, and ``SameSite=Lax`` keeps it off cross-site
posts. Resident pages therefore need no session and no second token: nothing else to
sign on each page and verify on each post.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from hmac import compare_digest
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


def instance_owned(instance: FormInstance, device_id: str | None, max_age: float) -> bool:
    """The page's CSRF check: True when ``instance`` was served to ``device_id`` (the
    request's device cookie) at most ``max_age`` seconds ago."""
    if device_id is None or not compare_digest(instance.device_id, device_id):
        return False
    return (utcnow() - instance.served_at).total_seconds() <= max_age
