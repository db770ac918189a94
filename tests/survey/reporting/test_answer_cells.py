"""``answer_cells`` (migration 0011's triggers) stays exact through every kind of write, on
SQLite and PostgreSQL: the incrementally kept table equals ``survey cells rebuild`` (one
SQL ``GROUP BY``) and equals the same counts computed in pandas from the raw answers and
responses, including a flag review that sets and clears the ``EXCLUDED`` bit. The
``source`` key of ``report_cells`` is checked the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy import text

from survey import demo
from survey.extensions import db
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from survey.models.answer_cell import ANSWER_CELL_KEYS
from survey.reporting.cell_rebuild import rebuild_cells
from survey.services.integrity import review
from survey.services.users import create_user

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
EXCLUDED = int(QualityFlag.EXCLUDED)
KEYS = list(ANSWER_CELL_KEYS)


@pytest.fixture
def answered(seeded: Flask) -> Flask:
    """The demo city with 400 generated responses and their answers, some not by QR."""
    with seeded.app_context():
        demo.add_responses(400, seed=3, weeks=3, now=NOW)
        db.session.execute(text("UPDATE responses SET source = 'paper' WHERE id % 5 = 0"))
        db.session.execute(text("UPDATE responses SET source = 'phone' WHERE id % 7 = 0"))
        db.session.commit()
    return seeded


def _kept(conn: Connection) -> dict[tuple[str, ...], int]:
    rows = conn.execute(text(f"SELECT {', '.join(KEYS)}, n FROM answer_cells WHERE n <> 0"))
    return {tuple(str(v) for v in r[:-1]): int(r[-1]) for r in rows}


def _from_raw(conn: Connection) -> dict[tuple[str, ...], int]:
    """The same counts from the raw rows, in pandas (no SQL GROUP BY)."""
    responses = pd.DataFrame(
        conn.execute(
            text(
                "SELECT id, questionnaire_id, week_start, district_id, point_id, region_id,"
                " channel_id, age_group, sex, source, flags, questionnaire_version_id"
                " FROM responses"
            )
        ).all()
    )
    answers = pd.DataFrame(
        conn.execute(text("SELECT response_id, question_key, value FROM answers")).all()
    )
    for column in ("district_id", "point_id", "channel_id"):
        responses[column] = responses[column].fillna(0).astype(int)
    for column in ("age_group", "sex", "source"):
        responses[column] = responses[column].fillna("")
    responses["flags"] = responses["flags"].astype(int) & EXCLUDED
    joined = answers.merge(responses, left_on="response_id", right_on="id")
    cell = KEYS[:-2]
    chosen = joined[joined["value"].notna() & (joined["value"] != "")]
    options = chosen.groupby([*cell, "question_key", "value"]).size()
    respondents = joined.groupby([*cell, "question_key"])["response_id"].nunique()
    valued = chosen.groupby([*cell, "question_key"]).size()
    # The question row: respondents minus option answers, kept where not 0.
    correction = respondents.sub(valued, fill_value=0)
    out: dict[tuple[str, ...], int] = {}
    for key, n in options.items():
        out[tuple(str(v) for v in key)] = int(n)
    for key, n in correction.items():
        if n:
            out[(*(str(v) for v in key), "")] = int(n)
    return out


def _check(conn: Connection) -> None:
    kept = _kept(conn)
    assert kept == _from_raw(conn)
    rebuild_cells(conn)
    assert _kept(conn) == kept


def _review_flips_exclusion(app: Flask) -> list[int]:
    """Strong flags on a few responses (excluded), then a review clears half of them and
    confirms a weak one: the EXCLUDED bit goes on and off through the real service."""
    admin = create_user("cells-admin", "correct horse battery", "city_admin")
    ids = list(db.session.execute(select(Response.id).order_by(Response.id).limit(6)).scalars())
    db.session.execute(text("UPDATE responses SET flags = 0 WHERE id <= :last"), {"last": ids[-1]})
    flags = []
    for i, response_id in enumerate(ids):
        strong = i < 4
        row = ResponseFlag(
            response_id=response_id,
            code="HONEYPOT" if strong else "BURST",
            strength="strong" if strong else "weak",
        )
        db.session.add(row)
        flags.append(row)
    db.session.flush()
    for response_id in ids:
        review.refresh_bits(response_id)
    review.review(admin, [f.id for f in flags[:2]], "clear")
    review.review(admin, [flags[5].id], "confirm")
    db.session.flush()
    return ids


def test_answer_cells_follow_every_write(answered: Flask) -> None:
    with answered.app_context():
        conn = db.session.connection()
        assert _kept(conn) == _from_raw(conn)  # kept by the inserts of the generator
        ids = _review_flips_exclusion(answered)
        bits = dict(
            db.session.execute(
                select(Response.id, Response.flags).where(Response.id.in_(ids))
            ).all()
        )
        assert [bits[i] & EXCLUDED != 0 for i in ids] == [False, False, True, True, False, True]
        assert _kept(conn) == _from_raw(conn)
        conn.execute(text("UPDATE responses SET flags = flags | 4 WHERE id % 7 = 0"))
        conn.execute(text(f"UPDATE responses SET flags = {EXCLUDED} WHERE id % 11 = 1"))
        conn.execute(text("UPDATE responses SET age_group = NULL, sex = NULL WHERE id % 9 = 3"))
        conn.execute(text("UPDATE responses SET point_id = NULL WHERE id % 23 = 4"))
        conn.execute(text("UPDATE responses SET source = 'intercept' WHERE id % 13 = 2"))
        week = dt.date(2026, 11, 23)
        conn.execute(text("UPDATE responses SET week_start = :w WHERE id % 31 = 6"), {"w": week})
        conn.execute(text("UPDATE answers SET value = 'no' WHERE id % 17 = 0"))
        conn.execute(text("DELETE FROM answers WHERE id % 19 = 0"))
        conn.execute(text("DELETE FROM answers WHERE response_id % 29 = 5"))
        conn.execute(text("DELETE FROM responses WHERE id % 37 = 7"))  # answers by cascade
        _check(conn)
        db.session.rollback()


def test_orm_delete_and_new_answers_keep_the_cells(answered: Flask) -> None:
    """The ORM path: a response deleted with its answers (ORM cascade), answers added to an
    existing response one statement at a time."""
    with answered.app_context():
        response = db.session.execute(select(Response).limit(1)).scalar_one()
        db.session.delete(response)
        db.session.flush()
        conn = db.session.connection()
        target = conn.execute(text("SELECT min(id) FROM responses")).scalar_one()
        for value in ("x1", "x2"):
            conn.execute(
                text("INSERT INTO answers (response_id, question_key, value) VALUES (:r, 'q', :v)"),
                {"r": target, "v": value},
            )
        conn.execute(
            text("INSERT INTO answers (response_id, question_key, text) VALUES (:r, 'free', 'x')"),
            {"r": target},
        )
        # One statement with several answers of one response to one question, and a
        # one-statement delete of them: the respondent row counts the response once.
        conn.execute(
            text(
                "INSERT INTO answers (response_id, question_key, value) VALUES"
                " (:r, 'many', 'a'), (:r, 'many', 'b'), (:r, 'many', 'c'), (:s, 'many', 'a')"
            ),
            {"r": target, "s": target + 1},
        )
        _check(conn)
        conn.execute(text("DELETE FROM answers WHERE question_key = 'many' AND value <> 'c'"))
        _check(conn)
        conn.execute(text("DELETE FROM answers WHERE question_key = 'many'"))
        _check(conn)
        db.session.rollback()


def _report_cells_by_source(conn: Connection) -> dict[Any, int]:
    rows = conn.execute(text("SELECT source, sum(n) FROM report_cells GROUP BY source"))
    return {r[0]: int(r[1]) for r in rows if int(r[1])}


def test_report_cells_are_keyed_by_source(answered: Flask) -> None:
    with answered.app_context():
        conn = db.session.connection()
        rows = conn.execute(text("SELECT source, count(*) FROM responses GROUP BY source"))
        direct = {r[0]: int(r[1]) for r in rows}
        assert _report_cells_by_source(conn) == direct
        assert set(direct) == {"qr", "paper", "phone"}
        rebuild_cells(conn)
        assert _report_cells_by_source(conn) == direct
        db.session.rollback()


def _rows(conn: Connection, statement: Any) -> list[tuple[str, ...]]:
    """Rows as sorted text, sums rounded (the same sums added in another order)."""

    def plain(v: Any) -> str:
        return f"{v:.6f}" if isinstance(v, float) else str(v)

    return sorted(tuple(plain(v) for v in row) for row in conn.execute(statement).all())


def test_question_statements_over_cells_equal_those_over_answers(answered: Flask) -> None:
    """The question frame's three statements return the same rows from the cells as from
    the responses and answers, for filters of every kind (source included) and groupings."""
    from survey.reporting import ReportFilter
    from survey.reporting.questions import cell_statements as cells
    from survey.reporting.questions import frame
    from survey.reporting.region_index import RegionIndex

    with answered.app_context():
        conn = db.session.connection()
        _review_flips_exclusion(answered)
        regions = RegionIndex.load(conn)
        q = conn.execute(text("SELECT min(questionnaire_id) FROM responses")).scalar_one()
        district = conn.execute(text("SELECT path FROM regions WHERE level = 'district'")).first()
        questions = ["aware_campaign", "aware_report", "volunteered", "sat_overall"]
        sqlite = conn.dialect.name == "sqlite"
        start, end = dt.date(2026, 11, 16), dt.date(2026, 11, 29)
        filters = [
            ReportFilter(questionnaire_id=q),
            ReportFilter(questionnaire_id=q, include_flagged=True, source="paper"),
            ReportFilter(questionnaire_id=q, date_from=start, date_to=end, source="qr"),
            ReportFilter(questionnaire_id=q, region_path=district[0] if district else None),
        ]
        for flt in filters:
            for by in (None, "week", "channel"):
                assert cells.reads_cells(flt, by)
                pairs = [
                    (
                        cells.response_cells(flt, regions, by, sqlite),
                        frame.response_statement(flt, regions, by),
                    ),
                    (
                        cells.choice_cells(flt, regions, questions, by, sqlite),
                        frame.choice_statement(flt, regions, questions, by),
                    ),
                    (
                        cells.respondent_cells(flt, regions, questions, by, sqlite),
                        frame.distinct_statement(flt, regions, questions, by),
                    ),
                ]
                for over_cells, over_answers in pairs:
                    assert "answers" not in str(over_cells).replace("answer_cells", "")
                    got, want = _rows(conn, over_cells), _rows(conn, over_answers)
                    assert got == want, (flt, by)
                    assert want or flt.source == "paper"
        db.session.rollback()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_triggers_seek_answers_by_index_after_an_empty_analyse(answered: Flask) -> None:
    """Migration 0017: with ``answers`` analysed while empty (a new database), PL/pgSQL
    planned the triggers' lookups of a response's other answers as sequential scans, so a
    long transaction of answers grew with the square of its rows. Inserting answers and
    moving a response to another cell (the triggers' lookups; neither statement reads
    ``answers`` itself) must find them through the index: no sequential scan of ``answers``
    in the transaction."""
    with answered.app_context():
        conn = db.session.connection()
        assert conn.dialect.name == "postgresql"
        # As on a new database: no pages and no rows in the statistics (TRUNCATE fires no
        # row triggers, so the cells go with the answers).
        conn.execute(text("TRUNCATE answers, answer_cells"))
        conn.execute(text("ANALYZE answers"))
        ids = conn.execute(text("SELECT id FROM responses ORDER BY id LIMIT 150")).scalars().all()
        scans = text(
            "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'answers'"
        )
        before = conn.execute(scans).scalar_one()
        rows = [{"r": i, "q": q, "v": v} for i in ids for q, v in (("a", "x"), ("b", "y"))]
        conn.execute(
            text("INSERT INTO answers (response_id, question_key, value) VALUES (:r, :q, :v)"),
            rows,
        )
        conn.execute(
            text("UPDATE responses SET flags = flags | :e WHERE id = :r"),
            {"e": EXCLUDED, "r": ids[3]},
        )
        assert conn.execute(scans).scalar_one() - before == 0
        _check(conn)
        db.session.rollback()
