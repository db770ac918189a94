"""Device identity for "one response per resident": a signed cookie and a keyed hash of it.

No Flask request or response here: the web layer reads and sets the cookie
(``survey.web.public.device_cookie``); this module signs, verifies and hashes its value.

The cookie holds a random id signed with the app secret, so a forged or edited cookie is
ignored. The database only ever sees HMAC-SHA256(key, id) where the key is derived from the
secret: neither the cookie nor any IP address is stored. Rotating ``SECRET_KEY`` therefore
starts duplicate detection afresh (old cookies no longer verify).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import Signer
from itsdangerous import URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.encoding import want_bytes

from survey.cache import cached

_SALT = "survey.device-cookie"
_HASH_CONTEXT = b"survey.device-hash.v1"


def _serializer() -> URLSafeSerializer:
    return signing_serializer(_SALT)


class CompactSerializer(URLSafeSerializer):
    """itsdangerous' ``URLSafeSerializer`` with its signer built once, not per token, and
    payloads never compressed (ours are a few dozen bytes of JSON around random ids, which
    zlib cannot shorten: the tokens are the same, and compressed ones still load).
    Signers hold no per-call state, so one is shared by every thread."""

    def __init__(self, secret_key: str | bytes, salt: str) -> None:
        super().__init__(secret_key, salt=salt)
        self._signer = super().make_signer(salt)

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """The shared signer for this serializer's salt, a new one for another salt."""
        if salt is None or want_bytes(salt) == self.salt:
            return self._signer
        return super().make_signer(salt)

    def dump_payload(self, obj: Any) -> bytes:
        """The URL-safe base64 of the compact JSON of ``obj``."""
        return base64_encode(want_bytes(self.serializer.dumps(obj, **self.serializer_kwargs)))


def signing_serializer(salt: str) -> URLSafeSerializer:
    """A URL-safe serializer for the app's secret key and ``salt``, built once per key."""
    key = current_app.secret_key
    return cached("serializers", (key, salt), lambda: CompactSerializer(key, salt))  # type: ignore[arg-type]


def new_device_id() -> str:
    """A fresh random device id (128 bits)."""
    return secrets.token_urlsafe(16)


def device_token(device_id: str) -> str:
    """The signed value of the device cookie for ``device_id`` (the web layer sets it)."""
    return _serializer().dumps(device_id)  # type: ignore[no-any-return]


def device_from_token(raw: str | None) -> str | None:
    """The device id of a validly signed cookie value, or None (missing, forged, odd)."""
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and 10 <= len(value) <= 64 else None


def device_hash(device_id: str) -> str:
    """Keyed hash (hex HMAC-SHA256) of a device id: what the database stores."""
    secret = str(current_app.secret_key).encode()
    key = hmac.new(secret, _HASH_CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, device_id.encode(), hashlib.sha256).hexdigest()
