"""Text cells that a spreadsheet must show as text: the one guard against formula injection.

Every CSV and XLSX file the application writes (reports, tables, population template, free
text, raw responses, point lists, the QR index) holds text people typed: region and point
names, labels, options, comments, user names. Excel and LibreOffice run a cell that starts
with ``=``, ``+``, ``-`` or ``@`` as a formula (a tab or carriage return first does the same
on import, so OWASP lists those too), and an officer's rename of a street would then run in
every city admin's workbook. Such a cell gets a leading apostrophe, the mark spreadsheets
themselves use for "this is text".

Numbers stay numbers: ``int``/``float`` values are returned as they are, and so is text that
is nothing but a signed decimal (``-3.5``, ``+12``, ``-4%``), which a spreadsheet reads as that
number and never as a formula.
"""

from __future__ import annotations

import re
from typing import Final
from typing import TypeVar

#: First characters that make a spreadsheet evaluate a cell (OWASP, CSV injection).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?%?")

T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """``value`` as a spreadsheet cell: text that would run as a formula gets a leading
    apostrophe; anything else (numbers, dates, None, plain text) is returned unchanged."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _SIGNED_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value
