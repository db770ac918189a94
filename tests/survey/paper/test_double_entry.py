"""Double entry: every planted mismatch listed, nothing stored until all are settled."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from survey.errors import Conflict
from survey.extensions import db
from survey.models import Answer
from survey.models import PaperBatch
from survey.models import PaperResponse
from survey.models import Response
from survey.services import transaction
from survey.services.paper import double
from survey.services.paper.double import Upload
from tests.survey.paper.conftest import Paper
from tests.survey.paper.filling import csv_file
from tests.survey.paper.filling import xlsx_file


def _responses() -> int:
    return int(db.session.execute(select(func.count(Response.id))).scalar_one())


def _files(paper: Paper) -> tuple[list[list[str]], list[list[str]]]:
    a = [paper.row(f"D{i:02d}", paper.codes[i % 4]) for i in range(12)]
    b = [list(r) for r in a]
    b[2][paper.column("sex")] = "男"  # A typed 女
    b[7][paper.column("aware_report:none")] = "1"  # a tick A did not type
    b[10][paper.column("date")] = "2026-13-01"  # a typo B made
    return a, b


def test_three_planted_mismatches_are_listed_exactly(paper: Paper) -> None:
    a, b = _files(paper)
    defn = paper.target.defn
    with paper.app.app_context():
        batch = double.compare(
            Upload("a.xlsx", xlsx_file(defn, a)), Upload("b.csv", csv_file(defn, b, "gbk")), None
        )
        transaction.commit()
        got = sorted((m.serial, m.column, m.value_a, m.value_b) for m in batch.mismatches)
        assert got == [
            ("D02", "sex", "女", "男"),
            ("D07", "aware_report:none", "", "1"),
            ("D10", "date", str(paper.day), "2026-13-01"),
        ]
        assert batch.status == "review" and _responses() == 0
        columns = len(paper.target.columns) - 1  # every column but the serial, the pairing key
        assert batch.compared_cells == 12 * columns
        assert batch.agreement == 1 - 3 / (12 * columns)


def test_nothing_is_stored_until_every_mismatch_is_settled(paper: Paper) -> None:
    a, b = _files(paper)
    defn = paper.target.defn
    with paper.app.app_context():
        batch = double.compare(
            Upload("a.csv", csv_file(defn, a)), Upload("b.csv", csv_file(defn, b)), None
        )
        transaction.commit()
        by_serial = {m.serial: m for m in batch.mismatches}
        double.settle(batch, by_serial["D02"].id, "b", "", None)  # the paper says 男
        double.settle(batch, by_serial["D07"].id, "a", "", None)
        transaction.commit()
        try:
            double.store_batch(batch, None)
        except Conflict as exc:
            assert "还有 1 处差异未核定" in str(exc)
        else:
            raise AssertionError("stored with a mismatch unsettled")
        transaction.rollback()
        assert _responses() == 0
        double.settle(batch, by_serial["D10"].id, "value", str(paper.day), None)
        result = double.store_batch(batch, None)
        transaction.commit()
        assert result.stored == 12 and _responses() == 12
        stored = db.session.get(PaperBatch, batch.id)
        assert stored is not None and stored.status == "stored" and stored.rows_a is None
        sex = db.session.execute(
            select(Answer.value)
            .join(PaperResponse, PaperResponse.response_id == Answer.response_id)
            .where(PaperResponse.serial == "D02", Answer.question_key == "sex")
        ).scalar_one()
        assert sex == "male"


def test_a_settled_value_that_breaks_a_rule_stores_nothing(paper: Paper) -> None:
    a, b = _files(paper)
    defn = paper.target.defn
    with paper.app.app_context():
        batch = double.compare(
            Upload("a.csv", csv_file(defn, a)), Upload("b.csv", csv_file(defn, b)), None
        )
        for m in batch.mismatches:
            double.settle(batch, m.id, "b", "", None)  # B's impossible date too
        result = double.store_batch(batch, None)
        transaction.commit()
        assert result.batch is None and _responses() == 0
        [error] = result.checked.errors
        assert error.heading == "日期" and "无法识别" in error.reason
        assert db.session.get(PaperBatch, batch.id).status == "review"  # type: ignore[union-attr]


def test_a_row_typed_by_one_clerk_only_is_a_mismatch(paper: Paper) -> None:
    a, b = _files(paper)
    b = [list(r) for r in a[:-1]]
    defn = paper.target.defn
    with paper.app.app_context():
        batch = double.compare(
            Upload("a.csv", csv_file(defn, a)), Upload("b.csv", csv_file(defn, b)), None
        )
        [m] = batch.mismatches
        assert (m.serial, m.column, m.value_b) == ("D11", "*", "未录入")
        double.settle(batch, m.id, "b", "", None)  # not a real paper: leave it out
        result = double.store_batch(batch, None)
        transaction.commit()
        assert result.stored == 11
