"""The raw responses as SPSS and Stata files equal the rows the CSV is made of, cell by
cell, when written in small batches (every batch boundary, the spool and the widths)."""

from __future__ import annotations

import math
from pathlib import Path

import pyreadstat
import pytest
from flask import Flask

from survey.services import question_reports
from survey.services import response_export
from tests.survey.test_report_cli import answered  # noqa: F401


def _expected(value: object, kind: str, numbers: dict[str, int]) -> object:
    if kind == "code":
        return float(numbers[str(value)]) if value is not None else math.nan
    if kind in ("int", "float"):
        return math.nan if value is None else float(value)  # type: ignore[arg-type]
    return "" if value is None else str(value)


def _same(got: object, want: object) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return got == want


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_stat_file_equals_the_rows_in_small_batches(
    answered: Flask,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setattr(response_export, "BATCH", 7)  # 300 responses: 43 batches
    path = tmp_path / f"r.{fmt}"
    with answered.app_context():
        vf = question_reports.command_line_filter("civilized-city", include_flagged=True)
        found, _ = response_export.variables(vf.definition)
        rows = list(response_export.iter_rows(vf.filter, vf.definition))
        seen: list[int] = []
        with path.open("wb") as out:
            written = response_export.write_stats_file(
                vf.filter, vf.definition, out, fmt, seen.append
            )
    assert written == len(rows) == 300
    assert sum(seen) == 2 * 300 and max(seen) == 7  # both passes, a batch at a time
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = read(str(path))
    assert list(frame.columns) == [v.name for v in found]
    texts = 0
    for i, v in enumerate(found):
        numbers = {code: n for n, code in enumerate(v.values, start=1)}
        column = frame[v.name].tolist()
        for r, row in enumerate(rows):
            want = _expected(row[i], v.kind, numbers)
            assert _same(column[r], want), (v.name, r, column[r], want)
            texts += v.kind == "text" and bool(want)
        if v.kind == "code" and v.values:
            labels = dict(enumerate(v.values.values(), start=1))
            assert meta.variable_value_labels[v.name] == {float(k): t for k, t in labels.items()}
    assert texts > 300  # names, codes and times: the text columns are really compared
