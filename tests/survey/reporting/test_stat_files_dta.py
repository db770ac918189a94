"""Stata 118 writer: files written a batch at a time read back whole by two independent
readers, pyreadstat (ReadStat) and pandas."""

from __future__ import annotations

import io
import math
import struct
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from survey.reporting.exports.stat_files import StatColumn
from survey.reporting.exports.stat_files.dta import write_dta

AWARENESS = {1: "知道", 2: "听说过，但不太了解", 3: "不知道"}
LONG_LABEL = "a" + "问" * 120  # 361 bytes; 320 bytes would split the 107th character
LONG_LABEL_CUT = "a" + "问" * 106  # 319 bytes
ESSAY = ("我们的社区" * 1334)[:6666] + "ok"  # 6,668 characters, 20,000 bytes
STAMP = datetime(2024, 3, 5, 9, 7)

COLUMNS = [
    StatColumn("id", "编号"),
    StatColumn("q1", "您是否知道本项政策？", value_labels=AWARENESS),
    StatColumn("score", LONG_LABEL),
    StatColumn("city", "所在城市", width=len("乌鲁木齐市".encode())),
    StatColumn("essay", "意见和建议", width=len(ESSAY.encode())),
    StatColumn("remark", "备注", width=3000),
]
# One tuple per row, in column order; "" is an empty text value, nan a missing number.
ROWS = [
    (1.0, 1.0, 3.5, "北京", ESSAY, "首行备注"),
    (2.0, math.nan, -0.25, "", "第二篇", "第二行"),
    (3.0, 3.0, math.nan, "乌鲁木齐市", "短", "x" * 2500),
    (4.0, 2.0, 1e300, "上海", "", ""),
    (5.0, 9.0, 0.0, "广州", "最后一行" * 10, "完"),
]
BATCH_SIZES = [2, 0, 1, 2]  # several batches, one empty and one of a single row
# The first batch fills both strL columns of both rows: their GSO records must come in
# (observation, variable) order, which ReadStat's binary search relies on.


def text(values: list[str]) -> np.ndarray:
    return np.array([value.encode("utf-8") for value in values], dtype="S")


def batches(rows: list[tuple]) -> list[list[np.ndarray]]:
    """``rows`` cut into batches of :data:`BATCH_SIZES`, one array per column."""
    out, start = [], 0
    for size in BATCH_SIZES:
        part = list(zip(*rows[start : start + size], strict=True)) or [()] * len(COLUMNS)
        out.append(
            [
                np.array(values, dtype=np.float64) if column.numeric else text(list(values))
                for column, values in zip(COLUMNS, part, strict=True)
            ]
        )
        start += size
    assert start == len(rows)
    return out


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.dta"
    with path.open("wb") as out:
        written = write_dta(out, COLUMNS, len(ROWS), batches(ROWS), "居民调查", STAMP)
    assert written == len(ROWS)
    return path


def expected(index: int) -> list:
    return [row[index] for row in ROWS]


def assert_numbers(actual: pd.Series, index: int) -> None:
    assert np.array_equal(actual.to_numpy(dtype=float), expected(index), equal_nan=True)


def test_pyreadstat_reads_every_value_and_label(sample: Path) -> None:
    frame, meta = pyreadstat.read_dta(str(sample))

    assert list(frame.columns) == [column.name for column in COLUMNS]
    assert len(frame) == meta.number_rows == len(ROWS)
    for index in range(3):
        assert_numbers(frame.iloc[:, index], index)
    for index in range(3, 6):
        assert frame.iloc[:, index].tolist() == expected(index)
    assert len(frame["essay"][0].encode()) == 20000
    labels = [column.label for column in COLUMNS]
    assert meta.column_labels == [*labels[:2], LONG_LABEL_CUT, *labels[3:]]
    assert meta.variable_value_labels == {"q1": AWARENESS}
    assert meta.file_label == "居民调查"
    assert meta.original_variable_types == {
        "id": "%10.0g",
        "q1": "%10.0g",
        "score": "%10.0g",
        "city": "%15s",
        "essay": "%9s",
        "remark": "%9s",
    }


def test_pandas_reads_every_value_and_label(sample: Path) -> None:
    with pd.io.stata.StataReader(sample) as reader:
        frame = reader.read(convert_categoricals=False)
        variable_labels = reader.variable_labels()
        value_labels = reader.value_labels()
        assert reader.data_label == "居民调查"
        assert reader.time_stamp == "05 Mar 2024 09:07"

    assert list(frame.columns) == [column.name for column in COLUMNS]
    assert len(frame) == len(ROWS)
    for index in range(3):
        assert_numbers(frame.iloc[:, index], index)
    for index in range(3, 6):
        assert frame.iloc[:, index].tolist() == expected(index)
    assert variable_labels == {column.name: column.label for column in COLUMNS} | {
        "score": LONG_LABEL_CUT
    }
    assert value_labels == {"q1": AWARENESS}
    labelled = pd.read_stata(sample)["q1"]  # codes turned into their labels
    assert labelled.astype(object).where(labelled.notna(), None).tolist() == [
        "知道",
        None,
        "不知道",
        "听说过，但不太了解",
        9.0,
    ]


def test_the_map_points_at_each_section(sample: Path) -> None:
    data = sample.read_bytes()
    start = data.index(b"<map>") + len(b"<map>")
    offsets = struct.unpack("<14Q", data[start : start + 14 * 8])
    tags = [b"<stata_dta>", b"<map>", b"<variable_types>", b"<varnames>", b"<sortlist>"]
    tags += [b"<formats>", b"<value_label_names>", b"<variable_labels>", b"<characteristics>"]
    tags += [b"<data>", b"<strls>", b"<value_labels>", b"</stata_dta>"]
    for offset, tag in zip(offsets, tags, strict=False):
        assert data[offset : offset + len(tag)] == tag
    assert offsets[13] == len(data)
    header = data[: offsets[1]]
    assert b"<release>118</release><byteorder>LSF</byteorder>" in header
    assert b"<K>" + struct.pack("<H", len(COLUMNS)) + b"</K>" in header
    assert b"<N>" + struct.pack("<Q", len(ROWS)) + b"</N>" in header
    row_width = 3 * 8 + 15 + 2 * 8
    assert offsets[10] - offsets[9] == len(b"<data></data>") + row_width * len(ROWS)


def test_strl_cells_refer_to_gso_records_in_observation_order(sample: Path) -> None:
    data = sample.read_bytes()
    strls = data[data.index(b"<strls>") + 7 : data.index(b"</strls>")]
    records, at = [], 0
    while at < len(strls):
        assert strls[at : at + 3] == b"GSO"
        v, o, kind, size = struct.unpack_from("<IQBI", strls, at + 3)
        value = strls[at + 20 : at + 20 + size]
        assert kind == 130 and value.endswith(b"\0")
        records.append(((o, v), value[:-1].decode()))
        at += 20 + size
    filled = [((o, v), row[v - 1]) for o, row in enumerate(ROWS, 1) for v in (5, 6) if row[v - 1]]
    assert records == filled  # sorted by (o, v), as ReadStat's binary search needs
    rows = np.frombuffer(
        data[data.index(b"<data>") + 6 : data.index(b"</data>")],
        dtype=[("numbers", "<f8", 3), ("city", "S15"), ("essay", "<u8"), ("remark", "<u8")],
    )
    for o, row in enumerate(rows, 1):  # v in the low 2 bytes, o in the high 6; (0, 0) if empty
        assert row["essay"] == (5 | o << 16 if ROWS[o - 1][4] else 0)
        assert row["remark"] == (6 | o << 16 if ROWS[o - 1][5] else 0)


def test_missing_and_infinite_numbers_are_stata_system_missing() -> None:
    out = io.BytesIO()
    numbers = np.array([math.nan, math.inf, -math.inf, 1.5])
    write_dta(out, [StatColumn("x", "")], 4, [[numbers]], timestamp=STAMP)
    data = out.getvalue()
    rows = data[data.index(b"<data>") + 6 : data.index(b"</data>")]
    assert rows == struct.pack("<3Q", *[0x7FE0000000000000] * 3) + struct.pack("<d", 1.5)
    assert numbers[1] == math.inf  # the caller's array is left alone


def test_a_file_may_start_inside_a_stream() -> None:
    out = io.BytesIO()
    out.write(b"prefix")
    columns = [StatColumn("x", "数值"), StatColumn("t", "文本", 3000)]
    batch = [np.array([1.0, 2.0]), text(["长文本", ""])]
    assert write_dta(out, columns, 2, [batch], timestamp=STAMP) == 2
    frame = pd.read_stata(io.BytesIO(out.getvalue()[len(b"prefix") :]))
    assert frame["x"].tolist() == [1.0, 2.0]
    assert frame["t"].tolist() == ["长文本", ""]


@pytest.mark.parametrize("announced", [len(ROWS) - 1, len(ROWS) + 1])
def test_a_wrong_row_count_raises(announced: int) -> None:
    with pytest.raises(ValueError, match="rows"):
        write_dta(io.BytesIO(), COLUMNS, announced, batches(ROWS), timestamp=STAMP)


def test_layouts_stata_cannot_hold_raise() -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match="wider"):
        write_dta(out, [StatColumn("t", "", 2)], 1, [[text(["北京"])]])
    with pytest.raises(ValueError, match="numeric"):
        write_dta(out, [StatColumn("t", "", 2, {1: "一"})], 0, [])
    with pytest.raises(ValueError, match="unique"):
        write_dta(out, [StatColumn("x", ""), StatColumn("x", "")], 0, [])
    with pytest.raises(ValueError, match="bytes array"):
        write_dta(out, [StatColumn("t", "", 2)], 1, [[np.array(["ab"])]])
