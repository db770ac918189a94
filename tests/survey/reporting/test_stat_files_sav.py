"""The streaming SPSS writer, read back by two independent readers: ReadStat (pyreadstat)
and GNU PSPP (Debian's ``pspp``, installed by ``.ci/run``; skipped locally without it)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pyreadstat
import pytest

from survey.reporting.exports.stat_files import StatColumn
from survey.reporting.exports.stat_files.sav import write_sav
from tests.conftest import IN_CI

LONG = ("文明城市创建" * 2000).encode("utf-8")[:20000].decode("utf-8", errors="ignore")
# A label of 120 three-byte characters: SPSS keeps 255 bytes, i.e. 85 whole characters.
LONG_LABEL = "您对本社区开展的文明实践活动" * 9
COLUMNS = [
    StatColumn("id", "答卷编号", decimals=0),
    StatColumn("aware", "您知道吗？", 0, {1: "知道", 2: "听说过，但不太了解", 3: "不知道"}, 0),
    StatColumn("note", LONG_LABEL, 20000),
    StatColumn("district", "区县", 12),
    StatColumn("edge_255", "恰好 255 字节", 255),
    StatColumn("edge_256", "256 字节：两段", 256),
    StatColumn("edge_505", "505 字节：三段", 505),
    StatColumn("score", "满意度得分"),
]


def _text(*values: str) -> np.ndarray:
    encoded = [v.encode("utf-8") for v in values]
    return np.array(encoded, dtype="S") if encoded else np.array([], dtype="S1")


ROWS: list[list[object]] = [
    [1.0, 1.0, LONG, "临江区", "a" * 255, "b" * 256, "c" * 505, 87.5],
    [2.0, np.nan, "", "", "", "", "x", np.nan],
    [3.0, 3.0, "其他意见：= 公式", "江北新区", "中" * 85, "d" * 255, "e" * 504, -2.25],
]


def _batch(rows: list[list[object]]) -> list[np.ndarray]:
    out = []
    for i, column in enumerate(COLUMNS):
        cells = [row[i] for row in rows]
        if column.numeric:
            out.append(np.array(cells, dtype="f8"))
        else:
            out.append(_text(*[str(c) for c in cells]))
    return out


def _write(path: Path) -> int:
    # Batches of 1, 0 and 2 rows: the layout does not depend on how rows are batched.
    batches = [_batch(ROWS[:1]), _batch([]), _batch(ROWS[1:])]
    with path.open("wb") as out:
        return write_sav(out, COLUMNS, 3, batches, label="测试", timestamp=dt.datetime(2026, 12, 1))


def test_pyreadstat_reads_every_value_and_label(tmp_path: Path) -> None:
    path = tmp_path / "t.sav"
    assert _write(path) == 3
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == [c.name for c in COLUMNS]
    assert meta.number_rows == 3
    for i, column in enumerate(COLUMNS):
        for r, row in enumerate(ROWS):
            got, want = frame.iloc[r, i], row[i]
            if column.numeric and np.isnan(float(want)):  # type: ignore[arg-type]
                assert np.isnan(got), (column.name, r)
            else:
                assert got == want, (column.name, r)
    assert meta.variable_value_labels == {
        "aware": {1.0: "知道", 2.0: "听说过，但不太了解", 3.0: "不知道"}
    }
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["aware"] == "您知道吗？" and labels["district"] == "区县"
    assert labels["note"] == LONG_LABEL[:85]  # 255 bytes, cut between characters
    assert meta.original_variable_types["note"] == "A20000"
    assert meta.original_variable_types["id"] == "F8.0"
    assert meta.original_variable_types["score"] == "F8.2"
    assert meta.file_label == "测试"


def test_header_counts_cases_and_units(tmp_path: Path) -> None:
    path = tmp_path / "t.sav"
    _write(path)
    data = path.read_bytes()
    layout, units, compression, _, cases = struct.unpack_from("<5i", data, 64)
    assert (layout, compression, cases) == (2, 0, 3)
    # id, aware, score: 1 unit each; district 12 bytes: 2; 255 bytes: 32; 256 bytes: 32 + 1;
    # 505 bytes: 32 + 32 + 1 (ceil(505 / 252) = 3 segments, the last 505 - 504 = 1 byte
    # wide); 20000 bytes: 80 segments, 79 of 32 units and one of 20000 - 79 * 252 = 92
    # bytes, 12 units.
    assert units == 3 + 2 + 32 + 33 + 65 + (79 * 32 + 12)
    assert data.endswith(struct.pack("<d", -2.25))  # the last case's last number
    # The cases are the file's last 3 x units x 8 bytes; the second has system-missing.
    cases = data[len(data) - 3 * units * 8 :]
    assert struct.unpack_from("<d", cases, units * 8 + 8)[0] == -np.finfo(np.float64).max


def test_wrong_row_count_or_width_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "a.sav").open("wb") as out, pytest.raises(ValueError, match="2 rows"):
        write_sav(out, COLUMNS, 3, [_batch(ROWS[:2])])
    with (tmp_path / "b.sav").open("wb") as out, pytest.raises(ValueError, match="more than"):
        write_sav(out, COLUMNS, 1, [_batch(ROWS[:2])])
    narrow = [StatColumn("t", "t", 2)]
    with (tmp_path / "c.sav").open("wb") as out, pytest.raises(ValueError, match="wider"):
        write_sav(out, narrow, 1, [[_text("中")]])


def test_pspp_reads_the_same_file(tmp_path: Path) -> None:
    """GNU PSPP has its own reader (not ReadStat): it must see the same cases."""
    pspp = shutil.which("pspp")
    if pspp is None:
        if IN_CI:
            pytest.fail("pspp is missing in CI: .ci/run must install Debian's pspp")
        pytest.skip("GNU PSPP is not installed")
    path, out = tmp_path / "t.sav", tmp_path / "t.csv"
    _write(path)
    script = tmp_path / "read.sps"
    script.write_text(
        f"GET FILE='{path}'.\nSAVE TRANSLATE /OUTFILE='{out}' /TYPE=CSV /FIELDNAMES /REPLACE.\n",
        encoding="utf-8",
    )
    subprocess.run([pspp, str(script)], check=True, capture_output=True, timeout=60)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [c.name for c in COLUMNS]
    assert [r[2] for r in rows[1:]] == [LONG, "", "其他意见：= 公式"]
    assert rows[1][6] == "c" * 505 and rows[3][4] == "中" * 85
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[2][1].strip() == "" and rows[3][7] == "-2.25"
