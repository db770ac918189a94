"""Synthetic responses for the report benchmark, bulk-inserted (executemany on SQLite, COPY on
PostgreSQL) into a database that holds the demo city (regions, population, points).

Used by ``benchmarks/reports.py``; kept apart so the timing script stays readable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy import text

from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region

AGE_GROUPS = ("18-29", "30-39", "40-49", "50-59", "60+")
SEXES = ("male", "female")
COLUMNS = (
    "questionnaire_id",
    "questionnaire_version_id",
    "point_id",
    "region_id",
    "district_id",
    "channel_id",
    "source",
    "submitted_at",
    "week_start",
    "flags",
    "age_group",
    "sex",
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)
CHUNK = 50_000


def _points(conn: Connection) -> list[tuple[int, int, int, int | None, int]]:
    """(point id, region id, channel id, district id, version id) of every demo point."""
    regions = {r.id: r for r in conn.execute(select(Region)).all()}

    def district(region_id: int) -> int | None:
        node = regions.get(region_id)
        while node is not None and node.level != "district":
            node = regions.get(node.parent_id) if node.parent_id else None
        return node.id if node is not None else None

    rows = conn.execute(
        select(
            CollectionPoint.id,
            CollectionPoint.region_id,
            CollectionPoint.channel_id,
            CollectionPoint.questionnaire_version_id,
        ).order_by(CollectionPoint.id)
    ).all()
    return [(p, r, c, district(r), v) for p, r, c, v in rows]


def _chunk(
    rng: np.random.Generator,
    size: int,
    points: list[tuple[int, int, int, int | None, int]],
    questionnaire_id: int,
    today: dt.date,
    weeks: int,
    postgres: bool,
) -> list[tuple[Any, ...]]:
    """``size`` synthetic rows, drawn and formatted with NumPy (no loop per row in Python)."""
    pick = rng.integers(0, len(points), size)
    arr = np.array([(p, r, c, d or 0, v) for p, r, c, d, v in points], dtype=np.int64)[pick]
    week = rng.integers(0, weeks, size)
    monday = np.datetime64(today - dt.timedelta(days=today.weekday()), "us")
    # Local (UTC+8) time inside week `week` before the current one, stored as UTC.
    local = monday - week * np.timedelta64(7, "D") + rng.integers(0, 7 * 86400 * 10**6, size)
    moment = local - np.timedelta64(8, "h")
    local_day = local.astype("datetime64[D]")
    # 1970-01-01 was a Thursday: Monday of the week = day - ((day - 4) mod 7).
    weekday = (local_day.astype(np.int64) + 3) % 7
    week_start = np.datetime_as_string(local_day - weekday.astype("timedelta64[D]"), unit="D")
    stamp = np.char.replace(np.datetime_as_string(moment, unit="us"), "T", " ")
    if postgres:
        stamp = np.char.add(stamp, "+00")
    logit = rng.normal(0.8, 1.0, size) - 0.05 * week + 0.3 * (arr[:, 3] % 3)
    p = 1 / (1 + np.exp(-logit))
    values = [
        rng.binomial(7, p) / 7,
        rng.binomial(4, p * 0.7) / 4,
        rng.binomial(8, p) / 8,
        np.round(rng.binomial(40, p) * 2.5, 1),
    ]
    missing = rng.random((size, 4)) < 0.03
    metric_lists = [
        [None if m else v for v, m in zip(col.tolist(), missing[:, j].tolist(), strict=True)]
        for j, col in enumerate(values)
    ]
    ages = np.array(AGE_GROUPS)[rng.integers(0, len(AGE_GROUPS), size)]
    sexes = np.array(SEXES)[rng.integers(0, 2, size)]
    flags = np.where(rng.random(size) < 0.03, 1, 0)
    district = [d or None for d in arr[:, 3].tolist()]
    return list(
        zip(
            [questionnaire_id] * size,
            arr[:, 4].tolist(),
            arr[:, 0].tolist(),
            arr[:, 1].tolist(),
            district,
            arr[:, 2].tolist(),
            ["qr"] * size,
            stamp.tolist(),
            week_start.tolist(),
            flags.tolist(),
            ages.tolist(),
            sexes.tolist(),
            *metric_lists,
            strict=True,
        )
    )


def insert_responses(
    conn: Connection, n: int, *, seed: int = 20261201, weeks: int = 12, today: dt.date | None = None
) -> int:
    """Insert ``n`` synthetic responses at the demo points; the caller commits."""
    points = _points(conn)
    questionnaire_id = conn.execute(select(QuestionnaireVersion.questionnaire_id)).scalar()
    assert questionnaire_id is not None, "load a questionnaire first"
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        rows = _chunk(
            rng, size, points, questionnaire_id, today, weeks, conn.dialect.name == "postgresql"
        )
        _write(conn, rows)
        done += size
    return done


def _write(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        names = ", ".join(COLUMNS)
        with raw.cursor().copy(f"COPY responses ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO responses ({', '.join(COLUMNS)}) VALUES ({marks})"
    conn.exec_driver_sql(sql, rows)


def analyse(conn: Connection) -> None:
    """Refresh planner statistics after a bulk load."""
    conn.execute(text("ANALYZE"))


__all__ = ["analyse", "insert_responses"]
