"""The one CSV writer of the application: Excel-friendly, and safe to open in Excel.

UTF-8 with a byte-order mark (Excel on Chinese Windows otherwise guesses GBK), CRLF line
ends, and every text cell that Excel would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) prefixed with an apostrophe so it stays text (the
one guard of every CSV and XLSX writer: ``survey.spreadsheet_text.safe_cell``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

from survey.spreadsheet_text import safe_cell


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole CSV file of ``headers`` and ``rows`` as bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The same file as :func:`csv_bytes`, as chunks of lines (streamed downloads: the rows
    are never all in memory)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
