"""``survey paper``: template, import (all or nothing, every bad cell printed), double entry."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from tests.survey.paper.conftest import Paper
from tests.survey.paper.filling import csv_file
from tests.survey.paper.filling import xlsx_file


def _count(paper: Paper) -> int:
    with paper.app.app_context():
        return int(db.session.execute(select(func.count(Response.id))).scalar_one())


def test_template_command_writes_the_workbook(paper: Paper, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = paper.app.test_cli_runner().invoke(
        args=["paper", "template", "--questionnaire", "civilized-city", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert next(c.value for c in book["录入"][1]) == "问卷编号 [serial:civilized-city:1]"


def test_import_command_stores_or_lists_every_bad_cell(paper: Paper, tmp_path: Path) -> None:
    runner = paper.app.test_cli_runner()
    rows = [paper.row(f"C{i}") for i in range(1200)]
    rows[5][paper.column("sex")] = "未知"
    rows[900][paper.column("point")] = ""
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_file(paper.target.defn, rows))
    refused = runner.invoke(args=["paper", "import", str(bad)])
    assert refused.exit_code == 2
    lines = [line for line in refused.output.splitlines() if line.startswith("第 ")]
    assert len(lines) == 2, refused.output[-2000:]
    assert lines[0].startswith("第 7 行 E 列（Q2）“未知”：不是此题的选项")
    assert lines[1].startswith("第 902 行 B 列（点位）（空）：缺少点位")
    assert "共 2 处错误，未导入任何问卷" in refused.output
    assert f"重新导入：survey paper import {bad}" in refused.output
    assert _count(paper) == 0
    good = tmp_path / "good.csv"
    rows[5] = paper.row("C5")
    rows[900] = paper.row("C900")
    good.write_bytes(csv_file(paper.target.defn, rows, "gbk"))
    stored = runner.invoke(args=["paper", "import", str(good)])
    assert stored.exit_code == 0, stored.output[-2000:]
    assert "检查" in stored.output and "写入" in stored.output  # progress bars (1,200 rows)
    assert "已导入 1200 份纸质问卷" in stored.output
    again = runner.invoke(args=["paper", "import", str(good)])
    assert again.exit_code == 2 and "这份文件可能已经导入，无需再导" in again.output
    assert _count(paper) == 1200


def test_double_entry_commands(paper: Paper, tmp_path: Path) -> None:
    runner = paper.app.test_cli_runner()
    a = [paper.row(f"D{i}") for i in range(3)]
    b = [list(r) for r in a]
    b[0][paper.column("volunteered")] = "没有参加过"
    (tmp_path / "a.csv").write_bytes(csv_file(paper.target.defn, a))
    (tmp_path / "b.csv").write_bytes(csv_file(paper.target.defn, b))
    shown = runner.invoke(
        args=["paper", "double", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    )
    assert shown.exit_code == 0, shown.output
    assert "1 处不一致" in shown.output
    found = re.search(r"^#(\d+)\t编号 D0\tQ11 .*\tA: 参加过\tB: 没有参加过$", shown.output, re.M)
    assert found, shown.output
    batch = re.search(r"批次 (\d+)", shown.output)
    assert batch
    early = runner.invoke(args=["paper", "store", batch.group(1)])
    assert early.exit_code == 2 and "还有 1 处差异未核定" in early.output
    settled = runner.invoke(args=["paper", "settle", batch.group(1), found.group(1), "a"])
    assert settled.exit_code == 0 and "还有 0 处未核定" in settled.output
    stored = runner.invoke(args=["paper", "store", batch.group(1)])
    assert stored.exit_code == 0 and "已入库 3 份" in stored.output
    assert _count(paper) == 3
