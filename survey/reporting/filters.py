"""What a report covers: the filter every part of the dashboard obeys, and its constants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import Final
from typing import Literal

from sqlalchemy import ColumnElement

from survey.errors import InvalidInput
from survey.services.integrity import EXCLUDING_FLAGS
from survey.timeutil import CST

Weighting = Literal["none", "poststratify", "rake"]
Level = Literal["district", "street", "community"]
DateBasis = Literal["week", "submitted"]

#: Weighting choices of a view: none, post-stratified to population counts
#: (district x age group x sex), or raked to the district, age-group and sex margins.
WEIGHTINGS: Final[tuple[str, ...]] = ("none", "poststratify", "rake")
WEIGHTING_NAMES: Final[dict[str, str]] = {
    "none": "不加权",
    "poststratify": "事后分层加权",
    "rake": "迭代比例加权",
}
#: Levels a report table can group by.
REPORT_LEVELS: Final[tuple[str, ...]] = ("district", "street", "community")
DATE_BASES: Final[tuple[str, ...]] = ("week", "submitted")
#: How a response was collected (``Response.source``), with the Chinese name a report shows.
SOURCE_NAMES: Final[dict[str, str]] = {
    "qr": "扫码",
    "paper": "纸质问卷",
    "door_to_door": "入户",
    "intercept": "拦截",
    "phone": "电话",
}

#: The four figures: three rates in [0, 1] and the 0-100 satisfaction score.
METRICS: Final[tuple[str, ...]] = (
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)
RATE_METRICS: Final[tuple[str, ...]] = ("awareness", "participation", "satisfaction")
METRIC_NAMES: Final[dict[str, str]] = {
    "awareness": "知晓率",
    "participation": "参与率",
    "satisfaction": "满意率",
    "satisfaction_score": "满意度得分",
}

#: A group with fewer responses than this is reported as 样本不足 instead of a figure. 30 is the
#: usual rule of thumb for a t or logit interval to be near its nominal coverage; pass another
#: value to the report functions to change it.
MIN_RESPONSES: Final = 30
#: Default minimum post-stratification cell size (``SURVEY_MIN_CELL_N``, the staff setting).
DEFAULT_MIN_CELL_N: Final = 5

#: The one exclusion rule of every estimate (:data:`EXCLUDING_FLAGS`, defined in
#: ``survey.services.integrity``): a response whose ``EXCLUDED`` bit is set (a strong integrity
#: flag nobody cleared, or any flag a reviewer confirmed) is left out unless flagged responses
#: are included.


def excluded_condition(flags: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL condition: the response carries a flag that excludes it from reports.

    ``flags <> 0`` comes first so that both databases can use the partial index of flagged
    responses (``ix_responses_flagged``) for the excluded count.
    """
    return (flags != 0) & (flags.bitwise_and(EXCLUDING_FLAGS) != 0)


def included_condition(flags: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL condition: no excluding flag is set.

    ``flags = 0 OR ...`` says the same as the bit test alone, but lets PostgreSQL estimate
    the share of rows kept (it guesses 0.5% for a bit test, and then sorts a million rows
    instead of reading the covering index in order).
    """
    return (flags == 0) | (flags.bitwise_and(EXCLUDING_FLAGS) == 0)


class ReportFilterError(InvalidInput):
    """A filter value is invalid (unknown weighting or level, period ends before it starts)."""


@dataclass(frozen=True)
class ReportFilter:
    """Which responses a report covers and how it weighs them.

    Dates are local (China) calendar dates, both ends included. With ``date_basis="week"``
    a response belongs to the period when its ``week_start`` (Monday of its local week) lies
    in ``[date_from, date_to]``; with ``"submitted"`` when its local submission day does.
    ``region_path`` (the chosen region) and ``scope_path`` (the officer's subtree) are
    ``Region.path`` prefixes; a report covers their intersection.
    """

    questionnaire_id: int
    version_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    date_basis: DateBasis = "week"
    region_path: str | None = None
    channel_id: int | None = None
    weighting: Weighting = "none"
    include_flagged: bool = False
    scope_path: str | None = None
    level: Level = "district"
    #: Only responses collected this way (a key of :data:`SOURCE_NAMES`); None: every source.
    source: str | None = None
    #: Post-stratification cells with fewer respondents are merged (the staff setting).
    min_cell_n: int = DEFAULT_MIN_CELL_N

    def __post_init__(self) -> None:
        if self.source is not None and self.source not in SOURCE_NAMES:
            raise ReportFilterError(f"未知的答卷来源：{self.source}")
        if self.weighting not in WEIGHTINGS:
            raise ReportFilterError(f"未知的加权方式：{self.weighting}")
        if self.level not in REPORT_LEVELS:
            raise ReportFilterError(f"未知的层级：{self.level}")
        if not 1 <= self.min_cell_n <= 1000:
            raise ReportFilterError(f"加权格最少答卷数应在 1 到 1000 之间：{self.min_cell_n}")
        if self.date_basis not in DATE_BASES:
            raise ReportFilterError(f"未知的时间口径：{self.date_basis}")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ReportFilterError("结束日期早于开始日期")

    @property
    def has_period(self) -> bool:
        """Both ends of the period are set (a previous period can be compared)."""
        return self.date_from is not None and self.date_to is not None

    def previous(self) -> ReportFilter | None:
        """The same filter over the period of equal length just before, or None."""
        if self.date_from is None or self.date_to is None:
            return None
        days = (self.date_to - self.date_from).days + 1
        try:
            start = self.date_from - dt.timedelta(days=days)
        except OverflowError:  # before year 1: there is no previous period to compare
            return None
        return replace(self, date_from=start, date_to=self.date_from - dt.timedelta(days=1))

    @property
    def source_name(self) -> str:
        """The source filter as staff read it (“全部来源” when there is none)."""
        return SOURCE_NAMES[self.source] if self.source is not None else "全部来源"

    def with_(self, **changes: Any) -> ReportFilter:
        """A copy with some fields changed."""
        return replace(self, **changes)


def local_midnight_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which local day ``day`` begins."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=CST).astimezone(dt.UTC)


def scan_days(flt: ReportFilter) -> tuple[dt.date | None, dt.date | None]:
    """Local days whose scans belong to the period (a week basis covers whole weeks)."""
    end = flt.date_to
    if end is not None and flt.date_basis == "week":
        end = end + dt.timedelta(days=6)
    return flt.date_from, end
