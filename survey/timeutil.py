"""Local (China Standard Time) dates for grouping; China has no daylight saving time."""

from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def week_start(moment: dt.datetime) -> dt.date:
    """Monday of the local week containing ``moment`` (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(CST).date()
    return local - dt.timedelta(days=local.weekday())


def local_day(moment: dt.datetime) -> dt.date:
    """Local calendar day of ``moment``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CST).date()


def local_time(moment: dt.datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in China time, or empty."""
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M") if moment else ""
