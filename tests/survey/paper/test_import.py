"""Importing typed-in paper questionnaires: all or nothing, every bad cell named."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func
from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer
from survey.models import AuditLog
from survey.models import PaperResponse
from survey.models import QualityFlag
from survey.models import Response
from survey.models import User
from survey.services import transaction
from survey.services.paper.storing import import_file
from tests.survey.paper.conftest import Paper
from tests.survey.paper.filling import csv_file
from tests.survey.paper.filling import xlsx_file


def _count(model: type, *where: object) -> int:
    return int(
        db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    )


def _import(
    paper: Paper,
    rows: list[list[str]],
    name: str = "x.csv",
    user: User | None = None,
    encoding: str = "utf-8",
):  # type: ignore[no-untyped-def]
    data = (
        xlsx_file(paper.target.defn, rows)
        if name.endswith(".xlsx")
        else csv_file(paper.target.defn, rows, encoding)
    )
    result = import_file(name, data, user)
    transaction.commit()
    return result


def test_one_bad_cell_stores_nothing_and_names_that_cell(paper: Paper) -> None:
    rows = [paper.row(f"P{i:03d}") for i in range(20)]
    col = paper.column("sat_market")
    rows[12][col] = "满易"  # a typo of 满意
    with paper.app.app_context():
        result = _import(paper, rows)
        assert result.batch is None
        assert _count(Response) == 0 and _count(PaperResponse) == 0
    [error] = result.checked.errors
    assert (error.row, error.column, error.value) == (14, "AL", "满易")  # header + 13th row
    assert col == 37  # AL: 26 + 12th letter, counted by hand from the template layout
    assert "不是此题的选项" in error.reason and "满意" in error.reason
    assert str(error).startswith("第 14 行 AL 列（Q")


def test_every_kind_of_bad_cell_is_listed(paper: Paper) -> None:
    rows = [paper.row(f"P{i}") for i in range(8)]
    rows[0][paper.column("aware_campaign")] = "也许"  # unknown option
    rows[1][paper.column("report_outcome")] = "已经解决"  # hidden: reported_problem = no
    rows[2][paper.column("sex")] = ""  # missing required answer
    rows[3][paper.column("date")] = "2020-01-01"  # outside the period
    rows[4][paper.column("point")] = "ZZZZZZZZZ"  # unknown point
    rows[5][paper.column("serial")] = "P6"  # duplicate serial within the file (row 8)
    rows[7][paper.column("volunteer_kind:traffic")] = "2"  # not 0/1
    with paper.app.app_context():
        result = _import(paper, rows)
        assert _count(Response) == 0
    got = {(e.row, e.heading): e.reason for e in result.checked.errors}
    assert len(result.checked.errors) == 7, [str(e) for e in result.checked.errors]
    assert "不是此题的选项" in got[(2, "Q4")]
    assert "只在 Q16 选择“反映过”时填写" in got[(3, "Q17")]
    assert "必答题未填写" in got[(4, "Q2")]
    assert "不在本问卷的收集期内" in got[(5, "日期")]
    assert "未知点位" in got[(6, "点位")]
    assert "编号重复" in got[(8, "编号")]
    assert "只能填 1" in got[(9, "Q13（文明交通劝导）")]


def test_a_clean_import_stores_exactly_the_rows_as_paper(paper: Paper) -> None:
    rows = [paper.row(f"P{i}", paper.codes[i % 3]) for i in range(30)]
    with paper.app.app_context():
        result = _import(paper, rows, "entry.xlsx")
        assert result.stored == 30 and result.checked.errors == []
        stored = db.session.execute(select(Response)).scalars().all()
        assert len(stored) == 30
        assert {r.source for r in stored} == {"paper"}
        assert {r.device_hash for r in stored} == {None}
        assert {r.form_instance for r in stored} == {None}
        assert {r.network_hash for r in stored} | {r.agent_hash for r in stored} == {None}
        assert {r.duration_seconds for r in stored} == {None}
        # No clock: neither TOO_FAST nor NO_TIMING (both would fire on a NULL served time).
        assert all(not r.flags & (QualityFlag.TOO_FAST | QualityFlag.NO_TIMING) for r in stored)
        noon = dt.datetime.combine(paper.day, dt.time(4), dt.UTC)  # 12:00 China time
        assert {r.submitted_at for r in stored} == {noon}
        assert _count(PaperResponse) == 30


def test_importing_the_same_file_again_stores_nothing(paper: Paper) -> None:
    rows = [paper.row(f"P{i}") for i in range(5)]
    with paper.app.app_context():
        assert _import(paper, rows).stored == 5
        again = _import(paper, rows)
        assert again.batch is None and again.checked.already == 5
        assert len(again.checked.errors) == 5
        assert all("已经导入过" in e.reason for e in again.checked.errors)
        assert _count(Response) == 5


def test_the_same_serial_at_another_point_is_another_paper(paper: Paper) -> None:
    with paper.app.app_context():
        assert _import(paper, [paper.row("001", paper.codes[0])]).stored == 1
        assert _import(paper, [paper.row("001", paper.codes[1])]).stored == 1


def test_a_gbk_csv_imports_the_same_as_utf8(paper: Paper) -> None:
    rows = [paper.row(f"P{i}", suggestions=f"建议：第{i}条，多建公园。") for i in range(6)]
    with paper.app.app_context():
        first = _import(paper, rows, "utf8.csv")
        utf8 = _stored_answers()
        db.session.execute(db.delete(PaperResponse))
        db.session.execute(db.delete(Response))
        db.session.commit()
        second = _import(paper, rows, "gbk.csv", encoding="gbk")
        gbk = _stored_answers()
    assert first.stored == second.stored == 6
    assert gbk == utf8
    assert any("多建公园" in (t or "") for rows_ in utf8.values() for _, _, t, _ in rows_)


def _stored_answers() -> dict[str, list[tuple[str, str | None, str | None, float | None]]]:
    out: dict[str, list[tuple[str, str | None, str | None, float | None]]] = {}
    for serial, key, value, text, number in db.session.execute(
        select(PaperResponse.serial, Answer.question_key, Answer.value, Answer.text, Answer.number)
        .join(Answer, Answer.response_id == PaperResponse.response_id)
        .order_by(Answer.id)
    ):
        out.setdefault(serial, []).append((key, value, text, number))
    return out


def test_codes_and_option_numbers_are_accepted_for_labels(paper: Paper) -> None:
    labels = paper.row("L")
    codes = paper.row("C")
    codes[paper.column("age_group")] = "30-39"
    codes[paper.column("sex")] = "2"  # the second option, 女
    with paper.app.app_context():
        assert _import(paper, [labels, codes]).stored == 2
        answers = _stored_answers()
    assert answers["L"] == answers["C"]


def test_an_officer_imports_only_for_points_in_their_region(paper: Paper) -> None:
    from tests.survey.admin.conftest import create_staff_accounts

    with paper.app.app_context():
        create_staff_accounts()
        db.session.commit()
        officer = db.session.execute(
            select(User).where(User.username == "street_officer")
        ).scalar_one()
        from survey.services.access import scope_root

        root = scope_root(officer)
        assert root is not None
        inside = _point_codes_under(root.path)
        outside = [c for c in paper.codes if c not in inside]
        result = _import(
            paper, [paper.row("A", inside[0]), paper.row("B", outside[0])], user=officer
        )
        assert result.batch is None and _count(Response) == 0
        [error] = result.checked.errors
        assert error.row == 3 and "不在您的管辖范围内" in error.reason
        assert _import(paper, [paper.row("A", inside[0])], user=officer).stored == 1


def _point_codes_under(path: str) -> list[str]:
    from survey.models import CollectionPoint
    from survey.models import Region

    return list(
        db.session.execute(
            select(CollectionPoint.code)
            .join(Region, Region.id == CollectionPoint.region_id)
            .where(Region.path.startswith(path))
        ).scalars()
    )


def test_every_import_is_audit_logged_stored_or_refused(paper: Paper) -> None:
    good = [paper.row("G1"), paper.row("G2")]
    bad = [paper.row("B1", sex="")]
    with paper.app.app_context():
        _import(paper, good, "good.csv")
        _import(paper, bad, "bad.csv")
        entries = (
            db.session.execute(
                select(AuditLog).where(AuditLog.action == "paper_import").order_by(AuditLog.id)
            )
            .scalars()
            .all()
        )
    details = [json.loads(e.detail) for e in entries]
    assert [(d["file"], d["rows"], d["outcome"]) for d in details] == [
        ("good.csv", 2, "stored"),
        ("bad.csv", 1, "refused"),
    ]
    assert details[1]["errors"] == 1
    assert {e.username for e in entries} == {"(命令行)"}


def test_a_race_on_the_same_serials_is_a_conflict_and_stores_nothing(paper: Paper) -> None:
    """Two imports of one file checked at once both pass the serial check; the UNIQUE
    constraint refuses the second at its INSERT, and the caller rolls back."""
    import pytest

    from survey.errors import Conflict
    from survey.services.paper.importing import check
    from survey.services.paper.importing import read_file
    from survey.services.paper.storing import new_batch
    from survey.services.paper.storing import store_rows

    data = csv_file(paper.target.defn, [paper.row("R1"), paper.row("R2")])
    with paper.app.app_context():
        first = check(read_file("a.csv", data), None)
        second = check(read_file("a.csv", data), None)
        assert first.ok and second.ok
        store_rows(
            new_batch(first.parsed.target, None, "a.csv", 2), first.parsed.target, first.ready
        )
        transaction.commit()
        with pytest.raises(Conflict):
            store_rows(
                new_batch(second.parsed.target, None, "a.csv", 2),
                second.parsed.target,
                second.ready,
            )
        transaction.rollback()
        assert _count(Response) == 2 and _count(PaperResponse) == 2
