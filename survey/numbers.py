"""The one parser of numbers people type: in query strings, forms and imported files.

``str.isdigit`` accepts characters ``int`` refuses (``²``) and ``int``/``float`` accept digits
of other scripts (``١``, full-width ``１``), underscores and ``nan``: none of that is a number
a page or a file should take. Here a number is ASCII digits only, with a bound, so that a
value can never overflow a database column or a date computation. Callers turn ``None``
into their own refusal (a 400, a form error, an import error naming the row).
"""

from __future__ import annotations

import re
from typing import Final

#: Largest value any parsed integer may have unless the caller says less (a signed 64-bit
#: column holds it; PostgreSQL ``INTEGER`` columns need the caller's smaller bound).
MAX_INT: Final = 2**63 - 1
_INT = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")
_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?|\.[0-9]{1,15}")


def parse_int(raw: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """``raw`` (surrounding spaces ignored) as an integer in ``[minimum, maximum]``, or None.

    Only ASCII digits, with a leading ``-`` when ``minimum`` is negative; nothing else (no
    ``+``, no ``_``, no other scripts' digits, no superscripts). The length is checked
    before ``int`` is called, so a megabyte of digits costs nothing.
    """
    text = raw.strip()
    pattern = _NEGATIVE if minimum < 0 and text.startswith("-") else _INT
    if not pattern.fullmatch(text) or len(text) > len(str(max(abs(minimum), maximum))) + 1:
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_decimal(raw: str, *, minimum: float = 0.0, maximum: float) -> float | None:
    """``raw`` as a plain decimal (``90``, ``92.5``, ``.5``) in ``[minimum, maximum]``, or None.

    ASCII digits and one point only: no exponent, sign, ``nan``/``inf``, ``_`` or other
    scripts' digits (all of which ``float`` accepts).
    """
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if minimum <= value <= maximum else None
