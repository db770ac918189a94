"""The ledger as the XLSX a 创文办 circulates: 序号, 区域, 问题, 依据, 责任单位, 整改时限, 状态.

Cells are text typed by staff (and example comments typed by residents), so any cell that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, or a tab or
carriage return) is written with a leading apostrophe, as text: the application's one guard,
``survey.spreadsheet_text.safe_cell``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.styles import Font

from survey.spreadsheet_text import safe_cell

LEDGER_COLUMNS: tuple[str, ...] = ("序号", "区域", "问题", "依据", "责任单位", "整改时限", "状态")
WIDTHS = (6, 18, 36, 60, 24, 12, 10)


@dataclass(frozen=True)
class LedgerLine:
    """One row of the exported ledger (text already in Chinese)."""

    area: str
    title: str
    basis: str
    unit: str
    deadline: dt.date
    status: str


def neutral(value: str) -> str:
    """``value`` as a spreadsheet text cell (a leading formula character is quoted)."""
    return str(safe_cell(value))


def ledger_xlsx(lines: Sequence[LedgerLine], title: str = "整改台账") -> bytes:
    """The workbook: a title row, the header row, one row per problem."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    head = WriteOnlyCell(sheet, value=neutral(title))
    head.font = Font(bold=True, size=14)
    sheet.append([head])
    header = []
    for name in LEDGER_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for number, line in enumerate(lines, start=1):
        texts = (line.area, line.title, line.basis, line.unit)
        cells = [WriteOnlyCell(sheet, value=number)]
        for text in texts:
            cell = WriteOnlyCell(sheet, value=neutral(text))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        cells.append(WriteOnlyCell(sheet, value=line.deadline.isoformat()))
        cells.append(WriteOnlyCell(sheet, value=neutral(line.status)))
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
