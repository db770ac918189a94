"""XLSX workbooks of report tables (openpyxl, write-only: rows are streamed to the file).

The first sheet, 说明, explains in plain Chinese what the figures mean; then one sheet per
table with its note on the first row, Chinese headers on the second, shares formatted as
percentages and scores with one decimal. Text that a spreadsheet would run as a formula
(a region named ``=HYPERLINK(...)``) is written as text (``survey.spreadsheet_text``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from survey.reporting.exports.tables import ExportTable
from survey.spreadsheet_text import safe_cell

FORMATS: dict[str, str] = {"pct": "0.0%", "score": "0.0", "float": "0.00", "int": "0"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", title)[:31] or "表"
    name, i = base, 2
    while name in used:
        suffix = f"_{i}"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name)
    return name


def _cell(sheet: WriteOnlyWorksheet, value: Any, kind: str, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=safe_cell(value))  # names never run as formulas
    if kind in FORMATS and isinstance(value, int | float):
        cell.number_format = FORMATS[kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


def _write_table(sheet: WriteOnlyWorksheet, table: ExportTable) -> None:
    sheet.column_dimensions["A"].width = 24
    note = table.note or table.title
    sheet.append([_cell(sheet, note, "text", bold=True)])
    sheet.append([_cell(sheet, c.title, "text", bold=True) for c in table.columns])
    row_kinds = table.meta.get("row_kinds")
    for i, row in enumerate(table.rows):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            kind = column.kind
            if kind == "auto":
                kind = row_kinds[i] if row_kinds else "float"
            cells.append(_cell(sheet, value, kind))
        sheet.append(cells)


def workbook_bytes(notes: Sequence[tuple[str, str]], tables: Sequence[ExportTable]) -> bytes:
    """The workbook: the 说明 sheet (``notes``: heading, text) and one sheet per table."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    about = book.create_sheet(sheet_title("说明", used))
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    for heading, text in notes:
        cell = WriteOnlyCell(about, value=safe_cell(text))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        about.append([_cell(about, heading, "text", bold=True), cell])
    for table in tables:
        _write_table(book.create_sheet(sheet_title(table.title, used)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
