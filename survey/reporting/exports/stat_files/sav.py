"""SPSS ``.sav`` (uncompressed, UTF-8), written a batch of rows at a time.

The layout is the one ReadStat (pyreadstat, R's haven) writes and SPSS, PSPP and ReadStat
read: the 176-byte file header, one type-2 record per variable and per 8-byte continuation
unit, value labels (records 3 and 4), the extension records for machine information (7/3,
7/4), the encoding (7/20), display parameters (7/11), long variable names (7/13), very long
strings (7/14) and the 64-bit case count (7/16), the dictionary terminator (999), then the
cases: 8 bytes per number (system-missing is ``-DBL_MAX``), text blank-padded to whole
8-byte units. Text wider than 255 bytes is a "very long string": segments of width 255
holding 255 bytes each (in 256), the last of width ``W - 252 * (segments - 1)``, as ReadStat
lays them out.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from survey.reporting.exports.stat_files import Batches
from survey.reporting.exports.stat_files import StatColumn
from survey.reporting.exports.stat_files import utf8_prefix

SYSMIS = -np.finfo(np.float64).max
_LOWEST = np.nextafter(SYSMIS, 0.0)
_FORMAT_A, _FORMAT_F = 1, 5
_CONTINUATION_FORMAT = (1 << 16) | (29 << 8) | 1  # what ReadStat writes; readers ignore it
_LABEL_MAX = 255  # bytes of a variable or value label


@dataclass(frozen=True)
class _Segment:
    """One variable record with its continuation units: a number, a string, or one segment
    of a very long string (``piece`` its index, ``offset`` its first unit in the case)."""

    column: int
    piece: int
    width: int  # 0 for a number; the segment's string width otherwise
    offset: int  # in 8-byte units from the start of the case

    @property
    def units(self) -> int:
        return 1 if self.width == 0 else (self.width + 7) // 8


def _segments(columns: Sequence[StatColumn]) -> list[_Segment]:
    out: list[_Segment] = []
    offset = 0
    for i, c in enumerate(columns):
        if c.width <= 255:
            widths = [c.width]
        else:
            count = -(-c.width // 252)
            widths = [255] * (count - 1) + [c.width - 252 * (count - 1)]
        for piece, width in enumerate(widths):
            out.append(_Segment(i, piece, width, offset))
            offset += out[-1].units
    return out


def short_name(column: int, piece: int = 0) -> bytes:
    """The 8-byte short name of a variable (``V<n>``) or of a very long string's later
    segment (``S<n>_<k>``); the real names are in the long-names record."""
    name = f"V{column + 1}" if piece == 0 else f"S{column + 1}_{piece}"
    if len(name) > 8:
        raise ValueError("too many variables for an SPSS file")
    return name.encode("ascii").ljust(8)


def _header(n_units: int, n_rows: int, label: str, moment: dt.datetime) -> bytes:
    product = b"@(#) SPSS DATA FILE - liangyi-survey".ljust(60)
    return struct.pack(
        "<4s60siiiiid9s8s64s3s",
        b"$FL2",
        product,
        2,
        n_units,
        0,  # uncompressed
        0,  # no weight variable
        n_rows,
        100.0,
        moment.strftime("%d %b %y").encode("ascii"),
        moment.strftime("%H:%M:%S").encode("ascii"),
        utf8_prefix(label, 64).ljust(64),
        b"\0\0\0",
    )


def _variable(seg: _Segment, column: StatColumn) -> bytes:
    if seg.width == 0:
        fmt = (_FORMAT_F << 16) | (8 << 8) | min(max(column.decimals, 0), 16)
    else:
        fmt = (_FORMAT_A << 16) | (min(seg.width, 255) << 8)
    label = utf8_prefix(column.label, _LABEL_MAX) if seg.piece == 0 and column.label else b""
    out = struct.pack(
        "<iiiiii8s", 2, seg.width, 1 if label else 0, 0, fmt, fmt, short_name(seg.column, seg.piece)
    )
    if label:
        out += struct.pack("<i", len(label)) + label.ljust(-(-len(label) // 4) * 4, b" ")
    blank = struct.pack(
        "<iiiiii8s", 2, -1, 0, 0, _CONTINUATION_FORMAT, _CONTINUATION_FORMAT, b" " * 8
    )
    return out + blank * (seg.units - 1)


def _value_labels(seg: _Segment, column: StatColumn) -> bytes:
    out = struct.pack("<ii", 3, len(column.value_labels))
    for value, text in column.value_labels.items():
        raw = utf8_prefix(text, _LABEL_MAX)
        entry = struct.pack("<dB", float(value), len(raw)) + raw
        out += entry.ljust(-(-len(entry) // 8) * 8, b" ")
    return out + struct.pack("<iii", 4, 1, seg.offset + 1)


def _extension(subtype: int, size: int, body: bytes) -> bytes:
    return struct.pack("<iiii", 7, subtype, size, len(body) // size) + body


def _extensions(columns: Sequence[StatColumn], segments: Sequence[_Segment], n_rows: int) -> bytes:
    machine = struct.pack("<8i", 20, 0, 0, -1, 1, 1, 2, 65001)
    floats = struct.pack("<3d", SYSMIS, np.finfo(np.float64).max, _LOWEST)
    display = b"".join(
        struct.pack(
            "<3i",
            1 if columns[s.column].width or columns[s.column].value_labels else 3,
            8,
            0 if columns[s.column].width else 1,
        )
        for s in segments
    )
    names = "\t".join(
        f"{short_name(i).decode().strip()}={c.name}" for i, c in enumerate(columns)
    ).encode("utf-8")
    long_strings = b"".join(
        short_name(i).strip() + f"={c.width:05d}".encode() + b"\0\t"
        for i, c in enumerate(columns)
        if c.width > 255
    )
    out = _extension(3, 4, machine) + _extension(4, 8, floats)
    out += _extension(20, 1, b"UTF-8") + _extension(11, 4, display)
    out += _extension(13, 1, names)
    if long_strings:
        out += _extension(14, 1, long_strings)
    return out + _extension(16, 8, struct.pack("<qq", 1, n_rows))


def _dictionary(
    columns: Sequence[StatColumn], n_rows: int, label: str, moment: dt.datetime
) -> tuple[bytes, list[_Segment], int]:
    segments = _segments(columns)
    n_units = sum(s.units for s in segments)
    parts = [_header(n_units, n_rows, label, moment)]
    parts += [_variable(s, columns[s.column]) for s in segments]
    parts += [
        _value_labels(s, columns[s.column])
        for s in segments
        if s.width == 0 and columns[s.column].value_labels
    ]
    parts.append(_extensions(columns, segments, n_rows))
    parts.append(struct.pack("<ii", 999, 0))
    return b"".join(parts), segments, n_units


def _text_bytes(values: np.ndarray, width: int) -> np.ndarray:
    """A (rows, width) uint8 matrix of the values' bytes, blank-padded."""
    if values.dtype.kind != "S":
        raise TypeError("a text column's batch must be a bytes array (dtype 'S')")
    rows = len(values)
    size = values.dtype.itemsize
    if size > width:
        raise ValueError(f"a value is {size} bytes, wider than the column's {width}")
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(rows, size)
    out = np.full((rows, width), 32, dtype=np.uint8)
    out[:, :size] = np.where(raw == 0, 32, raw)
    return out


def _encode(
    batch: Sequence[np.ndarray],
    columns: Sequence[StatColumn],
    segments: Sequence[_Segment],
    n_units: int,
) -> bytes:
    rows = len(batch[0]) if batch else 0
    case = np.full((rows, n_units * 8), 32, dtype=np.uint8)
    text: dict[int, np.ndarray] = {}
    for seg in segments:
        column = columns[seg.column]
        start = seg.offset * 8
        if column.numeric:
            values = np.asarray(batch[seg.column], dtype="<f8")
            values = np.where(np.isnan(values), SYSMIS, values)
            case[:, start : start + 8] = values.view(np.uint8).reshape(rows, 8)
            continue
        if seg.column not in text:
            text[seg.column] = _text_bytes(batch[seg.column], column.width)
        piece = text[seg.column][:, 255 * seg.piece : 255 * seg.piece + min(seg.width, 255)]
        case[:, start : start + piece.shape[1]] = piece
    return case.tobytes()


def write_sav(
    out: BinaryIO,
    columns: Sequence[StatColumn],
    n_rows: int,
    batches: Batches,
    label: str = "",
    timestamp: dt.datetime | None = None,
) -> int:
    """Write the dictionary of ``columns`` for ``n_rows`` cases, then every batch; returns
    the rows written (a ``ValueError`` when the batches do not hold ``n_rows``)."""
    head, segments, n_units = _dictionary(columns, n_rows, label, timestamp or dt.datetime.now())
    out.write(head)
    written = 0
    for batch in batches:
        if len(batch) != len(columns):
            raise ValueError(f"a batch has {len(batch)} columns, not {len(columns)}")
        if len({len(a) for a in batch}) > 1:
            raise ValueError("a batch's columns differ in length")
        written += len(batch[0]) if batch else 0
        if written > n_rows:
            raise ValueError(f"the batches hold more than the {n_rows} rows announced")
        out.write(_encode(batch, columns, segments, n_units))
    if written != n_rows:
        raise ValueError(f"the batches hold {written} rows, not the {n_rows} announced")
    return written
