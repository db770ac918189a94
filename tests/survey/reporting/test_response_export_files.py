"""The raw responses as SPSS and Stata files equal the rows the CSV is made of, cell by
cell, when written in small batches (every batch boundary, the spool and the widths)."""

from __future__ import annotations

import math
from pathlib import Path

import pyreadstat
import pytest
from flask import Flask
from sqlalchemy import select

from questionnaires import Definition
from survey.extensions import db
from survey.models import Answer
from survey.models import QualityFlag
from survey.models import Response
from survey.reporting.exports import raw as response_export
from survey.reporting.questions import pages as question_reports
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


def _expected_answers(
    defn: Definition, given: list[Answer], column: dict[tuple[str, str | None], str]
) -> dict[str, object]:
    """What the export should hold for one response's answer rows, worked out directly from
    the rows (not with the export's own code); ``column`` names the columns."""
    out: dict[str, object] = {}
    for q in defn.questions:
        rows = [a for a in given if a.question_key == q.key]
        if q.type == "multiple":
            for o in q.options:
                ticked = any(a.value == o.value for a in rows)
                out[column[(q.key, o.value)]] = (1 if ticked else 0) if rows else None
        elif rows:
            own = rows[0]
            out[column[(q.key, None)]] = {"number": own.number, "text": own.text}.get(
                q.type, own.value
            )
        else:
            out[column[(q.key, None)]] = None
        if q.allow_other:
            texts = [a.text for a in rows if a.text]
            out[column[(q.key, "__other")]] = texts[-1] if texts else None
    return out


def test_rows_hold_each_response_and_its_answers(answered: Flask) -> None:  # noqa: F811
    with answered.app_context():
        vf = question_reports.command_line_filter("civilized-city", include_flagged=True)
        first, second = db.session.execute(
            select(Response).order_by(Response.id).limit(2)
        ).scalars()
        # Free text, and 其他 with its text, on top of the demo's choice answers.
        db.session.add(Answer(response_id=first.id, question_key="suggestions", text="=多建公园"))
        db.session.add(
            Answer(
                response_id=second.id,
                question_key="volunteer_kind",
                value="other",
                text="社区图书馆",
            )
        )
        db.session.flush()
        found, column = response_export.variables(vf.definition)
        names = [v.name for v in found]
        rows = {
            int(r[0]): dict(zip(names, r, strict=True))
            for r in response_export.iter_rows(vf.filter, vf.definition)
        }
        responses = db.session.execute(select(Response).order_by(Response.id)).scalars().all()
        answers: dict[int, list[Answer]] = {}
        for a in db.session.execute(select(Answer).order_by(Answer.id)).scalars():
            answers.setdefault(a.response_id, []).append(a)
        assert sorted(rows) == [r.id for r in responses]
        for r in responses:
            got = rows[r.id]
            assert got["flags"] == ";".join(
                f.name or "" for f in QualityFlag if f != QualityFlag.EXCLUDED and r.flags & f
            )
            assert got["excluded"] == int(bool(r.flags & QualityFlag.EXCLUDED))
            assert got["awareness"] == r.awareness and got["sex"] == r.sex
            for name, want in _expected_answers(
                vf.definition, answers.get(r.id, []), column
            ).items():
                assert got[name] == want, (r.id, name)
        assert rows[first.id]["suggestions"] == "=多建公园"
        assert rows[second.id][column[("volunteer_kind", "__other")]] == "社区图书馆"
        assert rows[second.id][column[("volunteer_kind", "other")]] == 1
        db.session.rollback()
