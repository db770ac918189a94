"""``report_cells`` stays exact through every kind of write (the triggers of migrations
0007, 0009 and 0011: one cell per key, source and exclusion bit), and a week-based report
read from it returns what the same report reads from the responses themselves, for every filter, on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy import text

from survey.extensions import db
from survey.models import Channel
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.reporting import ReportFilter
from survey.reporting.region_index import RegionIndex
from survey.reporting.statement import flagged_responses_statement
from survey.reporting.statement import flagged_statement
from survey.reporting.statement import report_statement
from survey.reporting.statement import responses_statement
from survey.reporting.statement import uses_cells
from tests.survey.reporting.conftest import Generated

KEYS = (
    "questionnaire_id, week_start, coalesce(district_id, 0), coalesce(point_id, 0), region_id,"
    f" coalesce(channel_id, 0), coalesce(age_group, ''), coalesce(sex, ''), source,"
    f" flags & {int(QualityFlag.EXCLUDED)}, questionnaire_version_id"
)
METRICS = ("awareness", "participation", "satisfaction", "satisfaction_score")
DIRECT = (
    f"SELECT {KEYS}, count(*), "
    + ", ".join(f"count({m}), coalesce(sum({m}), 0), coalesce(sum({m} * {m}), 0)" for m in METRICS)
    + f" FROM responses GROUP BY {KEYS}"
)
CELLS = (
    "SELECT questionnaire_id, week_start, district_id, point_id, region_id, channel_id,"
    " age_group, sex, source, flags, questionnaire_version_id, n, "
    + ", ".join(f"{m}_n, {m}_sum, {m}_sum2" for m in METRICS)
    + " FROM report_cells WHERE n <> 0"
)


def _by_key(rows: Sequence[Any], width: int) -> dict[tuple[str, ...], tuple[float, ...]]:
    return {tuple(str(v) for v in r[:width]): tuple(float(v or 0) for v in r[width:]) for r in rows}


def _same(
    left: dict[tuple[str, ...], tuple[float, ...]], right: dict[tuple[str, ...], tuple[float, ...]]
) -> bool:
    """Same keys, and values equal up to rounding (sums added and taken away in any order)."""
    assert left.keys() == right.keys()
    for key, values in left.items():
        for a, b in zip(values, right[key], strict=True):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9), (key, values, right[key])
    return True


def _cells_match(conn: Connection) -> bool:
    direct = _by_key(conn.execute(text(DIRECT)).all(), 11)
    cells = _by_key(conn.execute(text(CELLS)).all(), 11)
    return _same(direct, cells)


def _write_every_way(conn: Connection) -> None:
    """Updates of every tracked column, NULLs in and out, deletes and a new response."""
    conn.execute(text("UPDATE responses SET flags = flags | 4 WHERE id % 7 = 0"))
    conn.execute(text("UPDATE responses SET flags = 0 WHERE id % 13 = 0"))
    excluded = int(QualityFlag.EXCLUDED | QualityFlag.BURST)
    conn.execute(text(f"UPDATE responses SET flags = flags | {excluded} WHERE id % 41 = 8"))
    conn.execute(text("UPDATE responses SET awareness = NULL WHERE id % 11 = 1"))
    conn.execute(text("UPDATE responses SET satisfaction_score = 55.5 WHERE id % 17 = 2"))
    conn.execute(text("UPDATE responses SET age_group = NULL, sex = NULL WHERE id % 19 = 3"))
    conn.execute(text("UPDATE responses SET point_id = NULL WHERE id % 23 = 4"))
    conn.execute(text("UPDATE responses SET channel_id = NULL WHERE id % 29 = 5"))
    conn.execute(text("UPDATE responses SET source = 'paper' WHERE id % 3 = 1"))
    week = dt.date(2026, 11, 23)
    conn.execute(text("UPDATE responses SET week_start = :w WHERE id % 31 = 6"), {"w": week})
    conn.execute(text("UPDATE responses SET duration_seconds = 1 WHERE id % 2 = 0"))  # untracked
    conn.execute(text("DELETE FROM answers WHERE response_id % 37 = 7"))
    conn.execute(text("DELETE FROM responses WHERE id % 37 = 7"))
    copy = conn.execute(select(Response.__table__).limit(1)).mappings().one()
    conn.execute(
        Response.__table__.insert(),
        {**{k: v for k, v in copy.items() if k not in ("id", "device_hash", "form_instance")}},
    )


def test_cells_follow_every_write(generated: Generated) -> None:
    with generated.app.app_context():
        conn = db.session.connection()
        assert _cells_match(conn)  # filled by the inserts
        _write_every_way(conn)
        assert _cells_match(conn)
        db.session.rollback()


def _filters(generated: Generated, conn: Connection) -> list[ReportFilter]:
    q = generated.questionnaire_id
    district = conn.execute(select(Region.path).where(Region.level == "district")).scalars()
    street = conn.execute(select(Region.path).where(Region.level == "street")).scalars()
    channel = conn.execute(select(Channel.id).order_by(Channel.id)).scalars().first()
    version = conn.execute(select(Response.questionnaire_version_id)).scalars().first()
    end = dt.date(2026, 11, 30)
    start = end - dt.timedelta(weeks=3)
    return [
        ReportFilter(questionnaire_id=q),
        ReportFilter(questionnaire_id=q, include_flagged=True),
        ReportFilter(questionnaire_id=q, date_from=start, date_to=end),
        ReportFilter(questionnaire_id=q, date_from=start + dt.timedelta(days=2), date_to=end),
        ReportFilter(questionnaire_id=q, region_path=next(iter(district))),
        ReportFilter(questionnaire_id=q, region_path=next(iter(street)), include_flagged=True),
        ReportFilter(questionnaire_id=q, channel_id=channel, version_id=version),
        ReportFilter(questionnaire_id=q, date_to=end - dt.timedelta(weeks=2)),
        ReportFilter(questionnaire_id=q, source="paper"),
        ReportFilter(questionnaire_id=q, source="qr", include_flagged=True, date_to=end),
    ]


def test_cells_statement_equals_the_responses_statement(generated: Generated) -> None:
    with generated.app.app_context():
        conn = db.session.connection()
        _write_every_way(conn)
        regions = RegionIndex.load(conn)
        listed = conn.dialect.name == "sqlite"
        for flt in _filters(generated, conn):
            assert uses_cells(flt)
            for previous in (False, True):
                args = (flt, regions, previous)
                cells = conn.execute(report_statement(*args, listed=listed)).all()
                direct = conn.execute(responses_statement(*args, listed=listed)).all()
                assert len(cells) > 0 or flt.date_to is not None, flt
                assert _same(_by_key(cells, 7), _by_key(direct, 7))
                flagged = conn.execute(flagged_statement(*args, listed=listed)).all()
                plain = conn.execute(flagged_responses_statement(*args, listed=listed)).all()
                assert _same(_by_key(flagged, 5), _by_key(plain, 5))
        db.session.rollback()


def test_day_based_reports_read_the_responses(seeded: Flask) -> None:
    flt = ReportFilter(questionnaire_id=1, date_basis="submitted")
    assert not uses_cells(flt)
    with seeded.app_context():
        regions = RegionIndex.load(db.session)
        assert "report_cells" not in str(report_statement(flt, regions, False))
        assert "report_cells" not in str(flagged_statement(flt, regions, False))
        week = ReportFilter(questionnaire_id=1)
        assert "report_cells" in str(report_statement(week, regions, False))
