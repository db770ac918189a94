"""The calendar range the application accepts in typed dates: 2000-01-01 to 2100-12-31.

Report periods (query arguments ``from``/``to``, ``survey report --from/--to``) and the date
fields of staff forms outside this range are refused with a clear message (a 400, a form
error, exit status 2). No survey happens before 2000 or after 2100, and within the range
every date computation (a previous period of equal length, a week's end, a UTC conversion)
stays far from the ends of Python's calendar, where they overflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

FIRST_DAY: Final = dt.date(2000, 1, 1)
LAST_DAY: Final = dt.date(2100, 12, 31)
#: How the range reads in messages.
RANGE_TEXT: Final = f"{FIRST_DAY.isoformat()} 至 {LAST_DAY.isoformat()}"


def in_range(day: dt.date) -> bool:
    """``day`` (a date, or the date of a date-time) lies in the accepted range."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return FIRST_DAY <= day <= LAST_DAY


def out_of_range_message(name: str, day: dt.date) -> str:
    """The message refusing ``day`` typed in ``name`` (Chinese, staff read it)."""
    return f"{name} 的日期 {day.isoformat()} 超出支持的范围（{RANGE_TEXT}）。"
