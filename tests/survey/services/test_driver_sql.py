"""``survey.services.driver_sql``: statements on the driver's cursor give what SQLAlchemy gives.

Each check runs the same Core statement both ways on the same connection, on SQLite and
PostgreSQL: rows with dates, times with zones, booleans and NULLs convert alike, an INSERT
stores the same row, and driver errors come out as SQLAlchemy's exceptions.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import Numeric
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import exc
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer
from survey.models import CollectionPoint
from survey.models import PointWindow
from survey.models import Response
from survey.services import driver_sql
from survey.services.driver_sql import DriverStatement
from survey.services.driver_sql import begin_immediate
from survey.services.driver_sql import fetch_all
from survey.services.resident import _POINT_BY_CODE
from survey.services.responses import lock_for_write

_COLUMNS = [c for c in Response.__table__.columns if c.key != "id"]  # type: ignore[attr-defined]


def _values(point: CollectionPoint, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {c.key: None for c in _COLUMNS}
    values.update(
        questionnaire_id=1,
        questionnaire_version_id=point.questionnaire_version_id,
        point_id=point.id,
        region_id=point.region_id,
        channel_id=point.channel_id,
        source="qr",
        served_at=dt.datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=dt.UTC),
        submitted_at=dt.datetime(2026, 11, 30, 1, 7, 8, tzinfo=dt.UTC),
        week_start=dt.date(2026, 11, 30),
        duration_seconds=305.5,
        flags=0,
        age_group="30-39",
        awareness=1.0,
        satisfaction_score=75.0,
    )
    values.update(extra)
    return values


def test_select_rows_convert_like_sqlalchemy(seeded: Flask) -> None:
    with seeded.app_context():
        point = db.session.execute(select(CollectionPoint)).scalars().first()
        assert point is not None
        point.revoked_at = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
        point.active = False
        db.session.add(
            PointWindow(
                point_id=point.id,
                starts_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                ends_at=None,
                daily_start=8,
                daily_end=20,
            )
        )
        db.session.commit()
        conn = db.session.connection()
        expected = tuple(conn.execute(_POINT_BY_CODE, {"code": point.code}).one())
        got = DriverStatement(_POINT_BY_CODE).first(conn, {"code": point.code})
        assert got == expected
        assert got is not None and got[2] is False and got[3].tzinfo is not None
        assert [type(v) for v in got] == [type(v) for v in expected]
        assert DriverStatement(_POINT_BY_CODE).first(conn, {"code": "NOSUCHCODE"}) is None


def test_insert_stores_what_sqlalchemy_stores(seeded: Flask) -> None:
    with seeded.app_context():
        point = db.session.execute(select(CollectionPoint)).scalars().first()
        assert point is not None
        table = Response.__table__  # type: ignore[attr-defined]
        keys = [c.key for c in _COLUMNS]
        statement = insert(table).returning(table.c.id)
        conn = db.session.connection()
        by_driver = DriverStatement(statement, keys=keys).scalar(
            conn, _values(point, device_hash="a", form_instance="a")
        )
        by_core = conn.execute(statement, _values(point, device_hash="b", form_instance="b"))
        core_id = by_core.scalar_one()
        db.session.commit()
        rows = {
            r.id: r
            for r in db.session.execute(
                select(table).where(table.c.id.in_([by_driver, core_id]))
            ).all()
        }
        skip = {"id", "device_hash", "form_instance"}
        driver_row, core_row = rows[by_driver], rows[core_id]
        for key in keys:
            if key not in skip:
                assert getattr(driver_row, key) == getattr(core_row, key), key
        assert driver_row.served_at == dt.datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=dt.UTC)


@pytest.mark.parametrize("parameters", [999, 10])
def test_insert_rows_stores_what_sqlalchemy_stores(
    seeded: Flask, monkeypatch: pytest.MonkeyPatch, parameters: int
) -> None:
    """A response's answers, inserted with one multi-row statement (or, beyond the rows
    per statement, one ``executemany``), are the rows an ``insert`` through
    ``Connection.execute`` stores: NULLs, floats and text alike, in order."""
    monkeypatch.setattr(driver_sql, "MAX_PARAMETERS", parameters)
    with seeded.app_context():
        point = db.session.execute(select(CollectionPoint)).scalars().first()
        assert point is not None
        table = Response.__table__  # type: ignore[attr-defined]
        answers = Answer.__table__  # type: ignore[attr-defined]
        conn = db.session.connection()
        ids = [
            conn.execute(
                insert(table).returning(table.c.id),
                _values(point, device_hash=f"r{i}", form_instance=f"r{i}"),
            ).scalar_one()
            for i in range(2)
        ]
        rows = [
            {"question_key": "q1", "value": "satisfied", "text": None, "number": None},
            {"question_key": "q2", "value": "other", "text": "门口的路灯 'x'", "number": None},
            {"question_key": "q3", "value": None, "text": None, "number": 2.5},
        ]
        keys = ("response_id", "question_key", "value", "text", "number")
        DriverStatement(insert(answers), keys=keys).insert_rows(
            conn, [{**r, "response_id": ids[0]} for r in rows]
        )
        conn.execute(insert(answers), [{**r, "response_id": ids[1]} for r in rows])
        DriverStatement(insert(answers), keys=keys).insert_rows(conn, [])
        db.session.commit()
        stored = [
            db.session.execute(
                select(answers.c.question_key, answers.c.value, answers.c.text, answers.c.number)
                .where(answers.c.response_id == rid)
                .order_by(answers.c.id)
            ).all()
            for rid in ids
        ]
        assert stored[0] == stored[1]
        assert [tuple(r) for r in stored[0]] == [tuple(r.values())[:4] for r in rows]


def test_insert_rows_is_all_or_nothing(seeded: Flask) -> None:
    """A row the database refuses (here a NULL question key) raises SQLAlchemy's error;
    rolled back, none of the rows stays."""
    with seeded.app_context():
        answers = Answer.__table__  # type: ignore[attr-defined]
        statement = DriverStatement(insert(answers), keys=("response_id", "question_key"))
        point = db.session.execute(select(CollectionPoint)).scalars().first()
        assert point is not None
        table = Response.__table__  # type: ignore[attr-defined]
        conn = db.session.connection()
        rid = conn.execute(
            insert(table).returning(table.c.id), _values(point, device_hash="z", form_instance="z")
        ).scalar_one()
        db.session.commit()
        conn = db.session.connection()
        before = conn.execute(select(func.count()).select_from(answers)).scalar_one()
        with pytest.raises(exc.IntegrityError):
            statement.insert_rows(
                conn,
                [
                    {"response_id": rid, "question_key": "ok"},
                    {"response_id": rid, "question_key": None},
                ],
            )
        db.session.rollback()
        after = db.session.execute(select(func.count()).select_from(answers)).scalar_one()
        assert after == before


def test_fetch_all_gives_the_rows_of_execute(seeded: Flask) -> None:
    """A report-like statement (sums, counts, dates, times with zones, text, NULLs, a
    numeric) gives the same values of the same types as ``Connection.execute`` (binary
    format on PostgreSQL); a broken one raises SQLAlchemy's error."""
    with seeded.app_context():
        points = db.session.execute(select(CollectionPoint)).scalars().all()[:3]
        table = Response.__table__  # type: ignore[attr-defined]
        conn = db.session.connection()
        for i, point in enumerate(points):
            for j in range(3):
                extra = {"awareness": None} if j == 2 else {"awareness": 0.25 * j}
                conn.execute(
                    insert(table),
                    _values(point, device_hash=f"f{i}{j}", form_instance=f"f{i}{j}", **extra),
                )
        statement = (
            select(
                table.c.week_start,
                table.c.point_id,
                table.c.age_group,
                table.c.sex,
                func.count().label("n"),
                func.count(table.c.awareness).label("awareness_n"),
                func.sum(table.c.awareness).label("awareness_sum"),
                func.sum(table.c.participation).label("participation_sum"),
                func.max(table.c.served_at).label("served"),
                cast(literal(1.5), Numeric(6, 2)).label("numeric"),
            )
            .where(
                table.c.form_instance.like("f%"),
                table.c.point_id.in_([p.id for p in points]),  # an expanding IN list
            )
            .group_by(table.c.week_start, table.c.point_id, table.c.age_group, table.c.sex)
        )
        expected = sorted(tuple(r) for r in conn.execute(statement).all())
        got = sorted(tuple(r) for r in fetch_all(conn, statement))
        assert got == expected and len(got) == len(points)
        assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in expected]
        assert got[0][7] is None and got[0][8].tzinfo is not None
        with pytest.raises(exc.DBAPIError):
            fetch_all(conn, select(func.no_such_function(table.c.id)))
        db.session.rollback()


def test_driver_errors_are_sqlalchemy_errors(seeded: Flask) -> None:
    with seeded.app_context():
        point = db.session.execute(select(CollectionPoint)).scalars().first()
        assert point is not None
        table = Response.__table__  # type: ignore[attr-defined]
        statement = DriverStatement(
            insert(table).returning(table.c.id), keys=[c.key for c in _COLUMNS]
        )
        conn = db.session.connection()
        statement.scalar(conn, _values(point, device_hash="same", form_instance="x1"))
        with pytest.raises(exc.IntegrityError):
            statement.scalar(conn, _values(point, device_hash="other", form_instance="x1"))
        db.session.rollback()
        lookup = DriverStatement(select(table.c.id).where(table.c.id == bindparam("id")))
        assert lookup.first(db.session.connection(), {"id": -1}) is None
        broken = DriverStatement(select(func.no_such_function(bindparam("id"))))
        with pytest.raises(exc.DBAPIError) as raised:
            broken.first(db.session.connection(), {"id": 1})
        assert isinstance(raised.value.orig, db.engine.dialect.loaded_dbapi.Error)
        db.session.rollback()


def test_lock_for_write_begins_immediately_on_sqlite_only(seeded: Flask) -> None:
    with seeded.app_context():
        conn = db.session.connection()
        raw = conn.connection.dbapi_connection
        assert raw is not None
        lock_for_write(conn)
        if conn.dialect.name == "sqlite":
            assert raw.in_transaction  # BEGIN IMMEDIATE: the write lock is held
            begin_immediate(conn)  # inside a transaction already: nothing to do
            assert raw.in_transaction
        else:  # PostgreSQL: nothing sent, the connection is still idle
            assert raw.info.transaction_status == raw.info.transaction_status.IDLE
        db.session.rollback()
