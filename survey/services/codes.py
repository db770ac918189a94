"""Short, unguessable, case-insensitive codes for collection points."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: codes are read off posters and typed by hand.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 9  # 31**9 ≈ 2**44.6: well above 40 bits of entropy


def new_code() -> str:
    """A fresh random code from ``secrets`` (not sequential, not derived from anything)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str | None:
    """Upper-case a code typed or scanned by a person; None if it cannot be a code."""
    code = raw.strip().upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code
