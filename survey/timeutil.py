"""Local (China Standard Time) dates for grouping; China has no daylight saving time."""

from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def week_start(moment: dt.datetime) -> dt.date:
    """Monday of the local week containing the aware ``moment``."""
    local = local_day(moment)
    return local - dt.timedelta(days=local.weekday())


def local_day(moment: dt.datetime) -> dt.date:
    """Local calendar day of the aware ``moment`` (a naive one is refused: its zone is unknown;
    every timestamp read from the database is aware, see ``survey.models.types``)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone first")
    return moment.astimezone(CST).date()


def local_time(moment: dt.datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in China time, or empty."""
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M") if moment else ""
