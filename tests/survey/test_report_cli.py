"""``survey report`` and ``survey responses export``: files written, exit 2 on bad input."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pyreadstat
import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook

from survey import demo

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


@pytest.fixture
def answered(seeded: Flask) -> Flask:
    with seeded.app_context():
        demo.add_responses(300, seed=5, weeks=3, now=NOW)
    return seeded


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_report_formats(answered: Flask, tmp_path: Path) -> None:
    base = ["report", "--questionnaire", "civilized-city"]
    xlsx = tmp_path / "r.xlsx"
    result = run(answered, *base, "--weighting", "rake", "--format", "xlsx", "--out", str(xlsx))
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert book.sheetnames[:6] == ["说明", "总体", "按区县", "按街道", "按渠道", "每周趋势"]
    assert "迭代比例加权" in str(book["说明"]["B3"].value)
    streets = tmp_path / "streets.csv"
    result = run(answered, *base, "--by", "street", "--format", "csv", "--out", str(streets))
    assert result.exit_code == 0, result.output
    text = streets.read_bytes().decode("utf-8-sig")
    assert text.startswith("街道/镇,编码,答卷") and "滨江街道" in text
    data = tmp_path / "r.json"
    result = run(answered, *base, "--region", "999901", "--format", "json", "--out", str(data))
    assert result.exit_code == 0, result.output
    body = json.loads(data.read_text(encoding="utf-8"))
    assert body["area"] == "临江区"
    docx = tmp_path / "b.docx"
    args = ["--from", "2026-11-23", "--to", "2026-11-29", "--format", "docx", "--out", str(docx)]
    result = run(answered, *base, *args)
    assert result.exit_code == 0, result.output
    assert "本周全市知晓率" in "\n".join(p.text for p in Document(str(docx)).paragraphs)
    html = tmp_path / "b.html"
    result = run(answered, *base, "--format", "html", "--out", str(html))
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "<script" not in page  # a file on disk: no link back to the server's scripts


def test_responses_export(answered: Flask, tmp_path: Path) -> None:
    out = tmp_path / "responses.sav"
    result = run(
        answered,
        *["responses", "export", "--questionnaire", "civilized-city", "--format", "sav"],
        *["--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    frame, meta = pyreadstat.read_sav(str(out))
    assert len(frame) == 300
    assert meta.variable_value_labels["sex"] == {1.0: "男", 2.0: "女"}
    assert (tmp_path / "responses_codebook.csv").exists()
    csv_out = tmp_path / "responses.csv"
    result = run(
        answered,
        *["responses", "export", "--questionnaire", "civilized-city", "--format", "csv"],
        *["--out", str(csv_out)],
    )
    assert result.exit_code == 0, result.output
    assert len(csv_out.read_bytes().decode("utf-8-sig").strip().splitlines()) == 301


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--questionnaire", "nope"], "nope"),
        (["--questionnaire", "civilized-city", "--region", "000000"], "000000"),
        (
            ["--questionnaire", "civilized-city", "--from", "2026-12-01", "--to", "2026-11-01"],
            "结束日期",
        ),
        (["--questionnaire", "civilized-city", "--from", "yesterday"], "yesterday"),
        (["--questionnaire", "civilized-city", "--version", "9"], "9"),
    ],
)
def test_bad_input_exits_2(answered: Flask, tmp_path: Path, args: list[str], message: str) -> None:
    result = run(answered, "report", *args, "--format", "xlsx", "--out", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "x.xlsx").exists()
