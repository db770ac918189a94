"""Filling the entry template the way a clerk does, for the tests and the benchmark."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from questionnaires import Definition
from survey.services.paper.columns import Column
from survey.services.paper.columns import layout


def template_row(
    columns: Sequence[Column],
    serial: str,
    point: str,
    day: dt.date | str,
    answers: Mapping[str, Any],
) -> list[str]:
    """One row of cells: option labels for choices, 1 for ticked options, codes for regions.
    ``answers`` is shaped like the QR form's data (``key__other`` holds the "其他" text)."""
    out: list[str] = []
    for c in columns:
        q = c.question
        if q is None:
            out.append({"serial": serial, "point": point, "date": str(day)}[c.kind])
        elif c.kind == "choice":
            value = answers.get(q.key)
            out.append(next((o.label for o in q.options if o.value == value), value or ""))
        elif c.kind == "option":
            chosen = answers.get(q.key) or []
            out.append("1" if c.option is not None and c.option.value in chosen else "")
        elif c.kind == "other_text":
            out.append(str(answers.get(q.other_key or "", "")))
        else:
            out.append(str(answers.get(q.key, "") or ""))
    return out


def header(defn: Definition) -> list[str]:
    """The template's header row."""
    return [c.heading for c in layout(defn)]


def csv_file(defn: Definition, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    """The rows as a CSV file (Excel writes GBK on Chinese Windows)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(defn))
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(defn: Definition, rows: Sequence[Sequence[str]]) -> bytes:
    """The rows as an XLSX workbook (one sheet, header first)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("录入")
    sheet.append(header(defn))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
