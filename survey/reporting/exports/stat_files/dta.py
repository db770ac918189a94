"""Streaming writer of Stata ``.dta`` files, format 118 (Stata 14 and later, UTF-8 text).

The file is a sequence of tagged sections, little-endian ("LSF")::

    <stata_dta><header>...</header><map>14 offsets</map><variable_types>...
    <varnames>...<sortlist>...<formats>...<value_label_names>...<variable_labels>...
    <characteristics></characteristics><data>rows</data><strls>GSO records</strls>
    <value_labels><lbl>...</lbl>...</value_labels></stata_dta>

Rows are written a batch at a time. Numbers are ``double``; text is ``str#`` up to 2045
bytes and ``strL`` beyond, whose values go to ``<strls>`` after the data: they are spooled
to a temporary file meanwhile, so memory stays one batch. The map is patched at the end.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

import numpy as np

from survey.reporting.exports.stat_files import Batch
from survey.reporting.exports.stat_files import Batches
from survey.reporting.exports.stat_files import StatColumn
from survey.reporting.exports.stat_files import utf8_prefix

DOUBLE = 65526  # type code of a Stata double
STRL = 32768  # type code of a strL, a long string kept in <strls>
MAX_STR = 2045  # widest str#; wider text columns are written as strL
MISSING = np.uint64(0x7FE0000000000000)  # bits of the double system missing "."
NAME_FIELD = 129  # variable and value label names: 32 characters of UTF-8 and a NUL
FORMAT_FIELD = 57
LABEL_FIELD = 321  # variable labels: 320 bytes and a NUL
LABEL_BYTES = LABEL_FIELD - 1  # also used for the dataset label
MAX_NAME_CHARS = 32
MAX_VARIABLES = 32767
LONG_MIN, LONG_MAX = -2_147_483_647, 2_147_483_620  # Stata's non-missing "long" range
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _field(raw: bytes, size: int) -> bytes:
    """``raw`` NUL-padded to a fixed-size field (always leaving at least one NUL)."""
    return raw[: size - 1].ljust(size, b"\0")


def _tag(name: str, body: bytes) -> bytes:
    return b"<%s>%s</%s>" % (name.encode(), body, name.encode())


def _type_code(column: StatColumn) -> int:
    if column.numeric:
        return DOUBLE
    return column.width if column.width <= MAX_STR else STRL


def _display_format(column: StatColumn) -> str:
    code = _type_code(column)
    if code == DOUBLE:
        return "%10.0g"
    return "%9s" if code == STRL else f"%{column.width}s"


def _check_columns(columns: Sequence[StatColumn]) -> None:
    """Raise ``ValueError`` for a layout Stata cannot hold."""
    if not 1 <= len(columns) <= MAX_VARIABLES:
        raise ValueError(f"a .dta file holds 1 to {MAX_VARIABLES} variables, not {len(columns)}")
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ValueError("variable names must be unique")
    for column in columns:
        if not 1 <= len(column.name) <= MAX_NAME_CHARS:
            raise ValueError(f"variable name {column.name!r} must be 1 to 32 characters")
        if column.width < 0:
            raise ValueError(f"{column.name}: negative width")
        if column.value_labels and not column.numeric:
            raise ValueError(f"{column.name}: Stata labels only numeric variables")
        for value in column.value_labels:
            if int(value) != value or not LONG_MIN <= value <= LONG_MAX:
                raise ValueError(f"{column.name}: value label for {value!r} is not a long")


def _header(columns: Sequence[StatColumn], n_rows: int, label: str, stamp: datetime) -> bytes:
    """The ``<header>`` element: release, byte order, K, N, dataset label and timestamp."""
    data_label = utf8_prefix(label, LABEL_BYTES)
    when = f"{stamp.day:02d} {MONTHS[stamp.month - 1]} {stamp.year:04d} {stamp:%H:%M}"
    body = (
        _tag("release", b"118")
        + _tag("byteorder", b"LSF")
        + _tag("K", struct.pack("<H", len(columns)))
        + _tag("N", struct.pack("<Q", n_rows))
        + _tag("label", struct.pack("<H", len(data_label)) + data_label)
        + _tag("timestamp", struct.pack("<B", 17) + when.encode("ascii"))
    )
    return _tag("header", body)


def _descriptors(columns: Sequence[StatColumn]) -> list[bytes]:
    """The seven sections between the map and the data, in file order."""
    types, names, formats, label_names, labels = [], [], [], [], []
    for column in columns:
        types.append(struct.pack("<H", _type_code(column)))
        names.append(_field(column.name.encode("utf-8"), NAME_FIELD))
        formats.append(_field(_display_format(column).encode("ascii"), FORMAT_FIELD))
        labelled = column.numeric and bool(column.value_labels)  # the set is named as the variable
        label_names.append(_field(column.name.encode("utf-8") if labelled else b"", NAME_FIELD))
        labels.append(_field(utf8_prefix(column.label, LABEL_BYTES), LABEL_FIELD))
    return [
        _tag("variable_types", b"".join(types)),
        _tag("varnames", b"".join(names)),
        _tag("sortlist", bytes(2 * (len(columns) + 1))),  # K+1 uint16 zeros: not sorted
        _tag("formats", b"".join(formats)),
        _tag("value_label_names", b"".join(label_names)),
        _tag("variable_labels", b"".join(labels)),
        _tag("characteristics", b""),
    ]


def _value_label_set(column: StatColumn) -> bytes:
    """One ``<lbl>`` element: the set named after the variable, labels kept whole."""
    labels = column.value_labels
    items = sorted((int(value), text.encode("utf-8")) for value, text in labels.items())
    offsets, text = [], bytearray()
    for _, label in items:
        offsets.append(len(text))
        text += label + b"\0"
    n = len(items)
    table = struct.pack(f"<ii{n}i{n}i", n, len(text), *offsets, *(v for v, _ in items)) + text
    head = struct.pack("<i", len(table)) + _field(column.name.encode(), NAME_FIELD) + bytes(3)
    return _tag("lbl", head + table)


def _row_dtype(columns: Sequence[StatColumn]) -> np.dtype:
    """The packed layout of one observation; doubles are held as their raw bits."""
    formats = []
    for column in columns:
        code = _type_code(column)
        formats.append(f"S{code}" if code <= MAX_STR else "<u8")
    return np.dtype({"names": [f"v{i}" for i in range(len(columns))], "formats": formats})


def _batch_size(columns: Sequence[StatColumn], batch: Batch) -> int:
    """The batch's number of rows, after checking its arrays against the columns."""
    if len(batch) != len(columns):
        raise ValueError(f"a batch has {len(batch)} arrays for {len(columns)} columns")
    sizes = {len(array) for array in batch}
    if len(sizes) != 1:
        raise ValueError("the arrays of a batch differ in length")
    for column, array in zip(columns, batch, strict=True):
        if column.numeric:
            continue
        if array.dtype.kind != "S":
            raise ValueError(f"{column.name}: text must be a bytes array, not {array.dtype}")
        too_wide = array.dtype.itemsize > column.width and len(array)
        if too_wide and int(np.char.str_len(array).max()) > column.width:
            raise ValueError(f"{column.name}: a value is wider than {column.width} bytes")
    return sizes.pop()


def _double_bits(array: np.ndarray) -> np.ndarray:
    """Little-endian float64 bits, with NaN and infinities as Stata's missing ``.``."""
    values = np.ascontiguousarray(array, dtype="<f8")
    return np.where(np.isfinite(values), values.view("<u8"), MISSING)


def _spool_strls(
    rows: np.ndarray, batch: Batch, strl_columns: list[int], first_row: int, spool: BinaryIO
) -> None:
    """Fill the strL cells of ``rows`` with (v, o) references and spool their GSO records.

    A reference is v (uint16, the 1-based variable) then o (6 bytes, the 1-based observation),
    that is ``v | o << 16`` as a little-endian uint64; (0, 0) is the empty string and needs no
    record. Records go in (o, v) order, which ReadStat binary-searches.
    """
    texts = [batch[i] for i in strl_columns]
    filled = np.column_stack([np.char.str_len(text) > 0 for text in texts])
    observations = np.arange(first_row + 1, first_row + len(rows) + 1, dtype=np.uint64)
    for k, i in enumerate(strl_columns):
        refs = np.uint64(i + 1) | (observations << np.uint64(16))
        rows[f"v{i}"] = np.where(filled[:, k], refs, np.uint64(0))
    for row, k in zip(*np.nonzero(filled), strict=True):  # row-major: sorted by (o, v)
        value = bytes(texts[k][row])
        record = struct.pack("<IQBI", strl_columns[k] + 1, first_row + row + 1, 130, len(value) + 1)
        spool.write(b"GSO" + record + value + b"\0")


def _encode_batch(
    columns: Sequence[StatColumn], dtype: np.dtype, batch: Batch, first_row: int, spool: BinaryIO
) -> bytes:
    """The ``<data>`` bytes of one non-empty batch whose first row is number ``first_row``."""
    rows = np.zeros(len(batch[0]), dtype)
    strl_columns = []
    for i, (column, array) in enumerate(zip(columns, batch, strict=True)):
        if column.numeric:
            rows[f"v{i}"] = _double_bits(array)
        elif column.width <= MAX_STR:
            rows[f"v{i}"] = array  # NUL-padded to the column's width
        else:
            strl_columns.append(i)
    if strl_columns:
        _spool_strls(rows, batch, strl_columns, first_row, spool)
    return rows.tobytes()


def _write_rows(
    out: BinaryIO, columns: Sequence[StatColumn], n_rows: int, batches: Batches, spool: BinaryIO
) -> int:
    """Write every batch's rows; raise ``ValueError`` unless they number ``n_rows``."""
    dtype = _row_dtype(columns)
    written = 0
    for batch in batches:
        size = _batch_size(columns, batch)
        if written + size > n_rows:
            raise ValueError(f"the batches hold more than the {n_rows} rows announced")
        if size:
            out.write(_encode_batch(columns, dtype, batch, written, spool))
        written += size
    if written != n_rows:
        raise ValueError(f"the batches hold {written} rows, not the {n_rows} announced")
    return written


def write_dta(
    out: BinaryIO,
    columns: Sequence[StatColumn],
    n_rows: int,
    batches: Batches,
    label: str = "",
    timestamp: datetime | None = None,
) -> int:
    """Write a Stata 118 ``.dta`` file of ``columns`` to ``out``, a batch at a time.

    ``out`` is a seekable binary file; the file starts at its current position. ``n_rows``
    is the exact number of rows ``batches`` hold: ``ValueError`` is raised (and the file
    left incomplete) if they hold another number, or if a column or batch does not fit the
    format. ``label`` is the dataset label and ``timestamp`` (default: now) the time stamp.
    Returns the number of rows written.
    """
    columns = list(columns)
    _check_columns(columns)
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    base = out.tell()
    offsets = [0] * 14  # <stata_dta>, <map>, the seven descriptors, <data>, ..., end of file

    def mark(index: int) -> None:
        offsets[index] = out.tell() - base

    out.write(b"<stata_dta>")
    out.write(_header(columns, n_rows, label, timestamp or datetime.now()))
    mark(1)
    out.write(_tag("map", bytes(8 * 14)))  # patched below
    for index, section in enumerate(_descriptors(columns), start=2):
        mark(index)
        out.write(section)
    with tempfile.TemporaryFile() as spool:
        mark(9)
        out.write(b"<data>")
        written = _write_rows(out, columns, n_rows, batches, spool)
        out.write(b"</data>")
        mark(10)
        out.write(b"<strls>")
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write(b"</strls>")
    mark(11)
    labelled = [c for c in columns if c.numeric and c.value_labels]
    out.write(_tag("value_labels", b"".join(_value_label_set(c) for c in labelled)))
    mark(12)
    out.write(b"</stata_dta>")
    mark(13)
    out.seek(base + offsets[1])
    out.write(_tag("map", struct.pack("<14Q", *offsets)))
    out.seek(base + offsets[13])
    return written
