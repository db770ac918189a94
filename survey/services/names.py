"""What may be stored as a region code, a name or a label, on every path in.

Region codes end up in file names (QR exports), URLs and CSV files, so they get a strict
character set: ASCII letters, digits, ``_`` and ``-``, at most 20 characters. Names and
labels may be any text but control characters (line breaks, tabs, NUL, bidi overrides, ...):
they are printed under QR codes, written to CSV/XLSX and shown in one-line table cells.
Forms, the region import, the command line and the services all check with these
functions; :func:`printable` makes rendering robust to what was stored before the rule.
"""

from __future__ import annotations

import re
import unicodedata

from survey.errors import InvalidInput

#: A region code: what the staff form, the import and the command line accept.
REGION_CODE_PATTERN = r"^[0-9A-Za-z_-]{1,20}\Z"
REGION_CODE_RE = re.compile(REGION_CODE_PATTERN)
REGION_CODE_RULE = "编码只能包含字母、数字、下划线和连字符（不超过 20 个字符）"

#: Unicode categories refused in names: control, format (bidi overrides, zero-width), surrogate,
#: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CONTROL_RUN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def is_region_code(code: str) -> bool:
    """True when ``code`` is a valid region code."""
    return bool(REGION_CODE_RE.fullmatch(code))


def check_region_code(code: str) -> str:
    """``code`` if it is a valid region code, else ``InvalidInput`` with the rule."""
    if not is_region_code(code):
        raise InvalidInput(f"{REGION_CODE_RULE}：{printable(code)[:40]!r}")
    return code


def control_characters(text: str) -> list[str]:
    """The refused characters in ``text``, as ``U+XXXX`` (empty when it is clean)."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _REFUSED_CATEGORIES]


def check_name(text: str, what: str = "名称", max_length: int = 100) -> str:
    """``text`` stripped, if it has no control characters and fits, else ``InvalidInput``."""
    text = text.strip()
    bad = control_characters(text)
    if bad:
        raise InvalidInput(f"{what}不能包含控制字符（如换行、制表符）：{', '.join(bad[:5])}")
    if len(text) > max_length:
        raise InvalidInput(f"{what}不能超过 {max_length} 个字符。")
    return text


def printable(text: str) -> str:
    """``text`` on one line: every run of control characters becomes one space.

    For rendering values stored before names were checked (a QR caption, an SVG ``<text>``,
    an XLSX cell): they must draw, not fail.
    """
    cleaned = _CONTROL_RUN.sub(" ", text)
    if cleaned.isprintable():
        return cleaned
    return "".join(" " if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch for ch in cleaned)
