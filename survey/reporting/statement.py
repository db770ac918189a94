"""SQL pushdown: one ``GROUP BY`` to the sufficient statistics of a report.

The statement returns one row per (collection point = cluster, its region, district = stratum
and channel, week, age group, sex) with the number of responses and, for every metric, the
number of non-missing values, their sum and their sum of squares: what
``analysis.design_from_aggregates`` needs. Region, district and channel depend on the point,
so they add no rows; report groups at any level, periods, channels and weeks are all unions of
these rows, so one statement serves the whole dashboard. Responses are never loaded.

A week-based report (the default) reads ``report_cells`` instead of the responses: the same
sums, per (week, district, point, region, channel, age group, sex, exclusion, version), kept by
database triggers (``survey.models.report_cell``), so the statement reads a few thousand
cells whatever the number of responses and returns the same rows. A report by calendar day
(``date_basis="submitted"``) reads the responses themselves.

The key order follows the cells' primary key and the covering index ``ix_responses_report``
(questionnaire, week, then the other keys): both databases seek to the period's weeks,
SQLite aggregates in key order without sorting, PostgreSQL aggregates a parallel index-only
scan of the responses (see ``planner``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from survey.models import ReportCell
from survey.models import Response
from survey.models.report_cell import CELL_KEYS
from survey.models.report_cell import NO_CODE
from survey.models.report_cell import NO_ID
from survey.reporting.filters import METRICS
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import excluded_condition
from survey.reporting.filters import included_condition
from survey.reporting.filters import local_midnight_utc
from survey.reporting.region_index import NOTHING
from survey.reporting.region_index import RegionIndex
from survey.reporting.region_index import effective_path

#: Where a report reads: the responses, or the report cells (same column names).
Source = type[Response] | type[ReportCell]

#: Grouping columns, in the order of the covering index.
KEY_COLUMNS: tuple[str, ...] = CELL_KEYS[1:8]  # week_start, district_id, ..., sex
#: A bounded period spanning at most this many weeks is written as a list of Mondays on
#: SQLite (one index seek per week, which also lets a district filter seek).
MAX_LISTED_WEEKS = 260
#: Columns of the sufficient statistics per metric, after ``n``.
STAT_COLUMNS: tuple[str, ...] = tuple(
    f"{m}_{part}" for m in METRICS for part in ("n", "sum", "sum2")
)


@dataclass(frozen=True)
class Statistics:
    """What the database returned for a report.

    ``frame`` has the key columns, ``period`` (1 = the filter's period, 0 = the previous one),
    ``n`` and the metric sums; ``flagged`` counts the responses carrying an excluding flag per
    (period, point, region, district, channel, week) (left out of ``frame`` unless the filter
    includes flagged responses). ``rows_read`` is the number of rows the report statement
    returned.
    """

    frame: pd.DataFrame
    flagged: pd.DataFrame
    rows_read: int
    filter: ReportFilter
    regions: RegionIndex


class unindexed(ColumnElement[Any]):
    """A column that SQLite must not search an index by (rendered ``+column``).

    With a period or a version in the filter SQLite's planner would rather search a
    (version, week) index and then sort every row for the ``GROUP BY``; keeping those terms
    off the index leaves it the covering index in key order, which needs no sort (3x faster
    at 1M responses). SQLAlchemy renders no index hints for SQLite, hence this; PostgreSQL
    sees the plain column.
    """

    inherit_cache = True
    _traverse_internals: ClassVar = [("inner", InternalTraversal.dp_clauseelement)]

    def __init__(self, inner: ColumnElement[Any]) -> None:
        self.inner = inner
        self.type = inner.type


@compiles(unindexed)
def _plain_column(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.inner, **kw))


@compiles(unindexed, "sqlite")
def _unindexed_column(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.inner, **kw))


def region_condition(
    flt: ReportFilter, regions: RegionIndex, table: Source = Response
) -> ColumnElement[bool] | None:
    """Condition on ``table`` (responses or report cells) for the report's subtree, or None
    for everything."""
    path = effective_path(flt.region_path, flt.scope_path)
    if path is None:
        return None
    if path == NOTHING:
        return false()
    root = regions.by_path(path)
    ids = regions.subtree_ids(path)
    if not ids:
        return false()
    if len(ids) == len(regions.by_id):
        return None
    if root is not None and root.level == "district":
        return table.district_id == root.id  # denormalised: same rows, cheaper test
    return unindexed(table.region_id).in_(ids)


def period_bounds(flt: ReportFilter, with_previous: bool) -> tuple[dt.date | None, dt.date | None]:
    """First and last day the statement reads (the previous period included if asked)."""
    previous = flt.previous() if with_previous else None
    start = previous.date_from if previous is not None else flt.date_from
    return start, flt.date_to


def monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def week_condition(
    start: dt.date | None, end: dt.date | None, *, listed: bool, table: Source = Response
) -> ColumnElement[bool] | None:
    """``week_start`` within ``[start, end]`` (either end optional; None: no condition).

    ``listed`` (for SQLite) writes a bounded period as its list of Mondays (``week_start`` is
    always a Monday, so the rows are those of the range): SQLite then seeks once per week on
    ``ix_responses_report`` (questionnaire, week, district, ...), a district condition seeks
    too, and the rows still come in index order. PostgreSQL gets the range.
    """
    week = table.week_start
    if listed and start is not None and end is not None:
        first = start + dt.timedelta(days=(7 - start.weekday()) % 7)
        count = (end - first).days // 7 + 1
        if count <= 0:
            return false()
        if count <= MAX_LISTED_WEEKS:
            return week.in_([first + dt.timedelta(weeks=i) for i in range(count)])
    parts = []
    if start is not None:
        parts.append(week >= start)
    if end is not None:
        parts.append(week <= end)
    return and_(*parts) if parts else None


def period_condition(
    flt: ReportFilter, with_previous: bool, *, listed: bool = False, table: Source = Response
) -> list[ColumnElement[bool]]:
    """Conditions on the period (by week start or by local submission day).

    With the submission day as basis the weeks that hold those days are a condition too
    (implied by the days, but it lets the database seek to them). ``listed``: see
    :func:`week_condition`.
    """
    start, end = period_bounds(flt, with_previous)
    if flt.date_basis == "week":
        week = week_condition(start, end, listed=listed, table=table)
        return [] if week is None else [week]
    if table is not Response:
        raise ValueError("report cells hold weeks, not days: a day-based period needs responses")
    week = week_condition(None if start is None else monday(start), end, listed=listed)
    out: list[ColumnElement[bool]] = [] if week is None else [week]
    submitted = unindexed(Response.submitted_at)
    if start is not None:
        out.append(submitted >= local_midnight_utc(start))
    if end is not None:
        out.append(submitted < local_midnight_utc(end + dt.timedelta(days=1)))
    return out


def base_conditions(
    flt: ReportFilter,
    regions: RegionIndex,
    with_previous: bool,
    *,
    listed: bool = False,
    table: Source = Response,
) -> list[ColumnElement[bool]]:
    """Every condition of the filter except the one on flags, on ``table`` (responses, or
    report cells for a week-based period; ``listed``: weeks as a list, for SQLite; see
    :func:`week_condition`)."""
    conditions: list[ColumnElement[bool]] = [table.questionnaire_id == flt.questionnaire_id]
    if flt.version_id is not None:
        conditions.append(unindexed(table.questionnaire_version_id) == flt.version_id)
    conditions += period_condition(flt, with_previous, listed=listed, table=table)
    where_region = region_condition(flt, regions, table)
    if where_region is not None:
        conditions.append(where_region)
    if flt.channel_id is not None:
        conditions.append(unindexed(table.channel_id) == flt.channel_id)
    if flt.source is not None:
        conditions.append(unindexed(table.source) == flt.source)
    return conditions


def _period_key(flt: ReportFilter, with_previous: bool) -> ColumnElement[Any] | None:
    """SQL period key when it cannot be derived from ``week_start`` afterwards."""
    if not with_previous or flt.date_from is None or flt.date_basis == "week":
        return None
    return case((Response.submitted_at >= local_midnight_utc(flt.date_from), 1), else_=0)


def uses_cells(flt: ReportFilter) -> bool:
    """Whether a report reads ``report_cells`` (a week-based period: the cells hold weeks)
    rather than every response (a period of calendar days)."""
    return flt.date_basis == "week"


def _cell_key(name: str) -> ColumnElement[Any]:
    """A cell's key column as the responses hold it (the cells' 0 / '' back to NULL)."""
    column = getattr(ReportCell, name)
    if name in ("district_id", "point_id", "channel_id"):
        return func.nullif(column, NO_ID).label(name)
    if name in ("age_group", "sex"):
        return func.nullif(column, NO_CODE).label(name)
    return column.label(name)


def report_statement(
    flt: ReportFilter, regions: RegionIndex, with_previous: bool, *, listed: bool = False
) -> Select[Any]:
    """The single ``GROUP BY`` of a report (SQLAlchemy Core; ``listed`` for SQLite): over
    the report cells for a week-based period, over the responses for a period of days.

    Rows come in no particular order (PostgreSQL's hash aggregate returns groups in an
    order that varies from run to run): :func:`load_statistics` puts them in key order."""
    if uses_cells(flt):
        return _cells_statement(flt, regions, with_previous, listed=listed)
    return responses_statement(flt, regions, with_previous, listed=listed)


def response_sums() -> list[Any]:
    """The responses' sufficient statistics: ``n``, then per metric the count of values,
    their sum and their sum of squares (the columns :data:`STAT_COLUMNS` name)."""
    aggregates: list[Any] = [func.count().label("n")]
    for metric in METRICS:
        column = getattr(Response, metric)
        aggregates += [
            func.count(column).label(f"{metric}_n"),
            func.sum(column).label(f"{metric}_sum"),
            func.sum(column * column).label(f"{metric}_sum2"),
        ]
    return aggregates


def responses_statement(
    flt: ReportFilter, regions: RegionIndex, with_previous: bool, *, listed: bool = False
) -> Select[Any]:
    """The report statement over the responses themselves (any period basis)."""
    keys: list[Any] = [getattr(Response, c) for c in KEY_COLUMNS]
    period = _period_key(flt, with_previous)
    if period is not None:
        keys.append(period.label("period"))
    aggregates = response_sums()
    conditions = base_conditions(flt, regions, with_previous, listed=listed)
    if not flt.include_flagged:
        conditions.append(included_condition(Response.flags))
    return select(*keys, *aggregates).where(*conditions).group_by(*keys)


def _cells_statement(
    flt: ReportFilter, regions: RegionIndex, with_previous: bool, *, listed: bool
) -> Select[Any]:
    """The report statement over ``report_cells``: the same rows and sums as over the
    responses (cells of flags and versions summed; emptied cells skipped)."""
    keys = [getattr(ReportCell, c) for c in KEY_COLUMNS]
    total = func.sum(ReportCell.n)
    aggregates = [total.label("n")] + [
        func.sum(getattr(ReportCell, c)).label(c) for c in STAT_COLUMNS
    ]
    conditions = base_conditions(flt, regions, with_previous, listed=listed, table=ReportCell)
    if not flt.include_flagged:
        conditions.append(included_condition(ReportCell.flags))
    return (
        select(*(_cell_key(c) for c in KEY_COLUMNS), *aggregates)
        .where(*conditions)
        .group_by(*keys)
        .having(total > 0)
    )


def flagged_statement(
    flt: ReportFilter, regions: RegionIndex, with_previous: bool, *, listed: bool = False
) -> Select[Any]:
    """Count of responses with an excluding flag (few; served by the partial index, or by
    the report cells for a week-based period)."""
    if uses_cells(flt):
        total = func.sum(ReportCell.n)
        conditions = base_conditions(flt, regions, with_previous, listed=listed, table=ReportCell)
        conditions.append(excluded_condition(ReportCell.flags))
        return (
            select(*(_cell_key(c) for c in KEY_COLUMNS[:5]), total.label("flagged"))
            .where(*conditions)
            .group_by(*(getattr(ReportCell, c) for c in KEY_COLUMNS[:5]))
            .having(total > 0)
        )
    return flagged_responses_statement(flt, regions, with_previous, listed=listed)


def flagged_responses_statement(
    flt: ReportFilter, regions: RegionIndex, with_previous: bool, *, listed: bool = False
) -> Select[Any]:
    """The flagged count over the responses themselves (any period basis)."""
    keys: list[Any] = [getattr(Response, c) for c in KEY_COLUMNS[:5]]
    period = _period_key(flt, with_previous)
    if period is not None:
        keys.append(period.label("period"))
    conditions = base_conditions(flt, regions, with_previous, listed=listed)
    conditions.append(excluded_condition(Response.flags))
    return select(*keys, func.count().label("flagged")).where(*conditions).group_by(*keys)


def load_statistics(
    bind: Session | Connection,
    flt: ReportFilter,
    *,
    with_previous: bool = False,
    regions: RegionIndex | None = None,
) -> Statistics:
    """Run the report statement (and the flagged count) and return the aggregated rows."""
    regions = regions or RegionIndex.load(bind)
    conn = bind if isinstance(bind, Connection) else bind.connection()
    listed = conn.dialect.name == "sqlite"
    rows = conn.execute(report_statement(flt, regions, with_previous, listed=listed)).all()
    period = ["period"] if _period_key(flt, with_previous) is not None else []
    frame = _in_key_order(_frame(rows, [*KEY_COLUMNS, *period, "n", *STAT_COLUMNS]))
    flagged_rows = conn.execute(flagged_statement(flt, regions, with_previous, listed=listed)).all()
    flagged = _in_key_order(_frame(flagged_rows, [*KEY_COLUMNS[:5], *period, "flagged"]))
    for table in (frame, flagged):
        _normalise(table, flt, with_previous)
    return Statistics(
        frame=frame, flagged=flagged, rows_read=len(rows), filter=flt, regions=regions
    )


def _in_key_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows sorted by their keys (the statement's GROUP BY keys: one row each).

    Floating-point sums taken in another order differ in the last bits, so the same data
    must give the same rows in the same order (the same page twice shows the same figures to
    the last digit). Sorted here, not by an ORDER BY: PostgreSQL took ~60 ms to sort the
    report statement's 6,720 rows at 1M responses (half the statement), pandas ~3 ms.
    """
    if len(frame) < 2:
        return frame
    keys = [c for c in frame.columns if c in KEY_COLUMNS or c == "period"]
    return frame.sort_values(keys, ignore_index=True, na_position="first")


#: Key columns with few distinct text values: categorical in the frame (cheap to group by).
CATEGORICAL_KEYS: tuple[str, ...] = ("age_group", "sex")


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    """Rows to a frame, column by column (much faster than from_records on Row objects):
    counts and sums straight to NumPy, age group and sex categorical, integer keys straight
    to int64 when none is NULL (pandas' inference over a list of ints costs far more)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        if name.endswith(("_sum", "_sum2")):
            data[name] = np.array(values, dtype=np.float64)  # None (all missing) -> NaN
        elif name in ("n", "flagged") or name.endswith("_n"):
            data[name] = np.array(values, dtype=np.int64)
        elif name in CATEGORICAL_KEYS:
            data[name] = _categorical(values)
        elif name in INTEGER_KEYS and values:
            data[name] = _int_column(values)
        else:
            data[name] = list(values)
    return pd.DataFrame(data)


def _categorical(values: Sequence[Any]) -> pd.Categorical:
    """``pd.Categorical(values)`` for text codes (None: missing), coded through a dict: the
    same categories in the same (sorted) order, without pandas inferring the type of every
    value (a third of the cost for a few thousand rows)."""
    levels = {v for v in values if v is not None}
    if not levels or not all(isinstance(v, str) for v in levels):
        return pd.Categorical(values)
    categories = sorted(levels)
    lookup: dict[Any, int] = {v: i for i, v in enumerate(categories)}
    lookup[None] = -1
    codes = np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))


#: Integer key columns (NULL for responses without a district or point).
INTEGER_KEYS: tuple[str, ...] = ("district_id", "point_id", "region_id", "channel_id", "period")


def _int_column(values: Sequence[Any]) -> Any:
    """int64 array of ``values``, or the plain list (pandas infers float with NaN) when one
    is NULL: the same column as a list always gave, without inferring the common case."""
    try:
        return np.array(values, dtype=np.int64)
    except TypeError:
        return list(values)


def _normalise(frame: pd.DataFrame, flt: ReportFilter, with_previous: bool) -> None:
    """Fill the design columns: period, stratum (0 for no district), cluster (a point, or the
    region for responses without a point), zero sums for all-missing metrics."""
    if "period" not in frame.columns:
        if with_previous and flt.date_from is not None:
            frame["period"] = _periods(frame["week_start"], flt.date_from)
        else:
            frame["period"] = np.int64(1)
    frame["period"] = frame["period"].astype(np.int64)
    frame["stratum"] = frame["district_id"].fillna(0).astype(np.int64)
    if frame["point_id"].dtype == np.int64:  # every row has a point
        frame["cluster"] = frame["point_id"].to_numpy(copy=True)
    else:
        point = frame["point_id"].astype("Float64")
        frame["cluster"] = point.fillna(-frame["region_id"].astype("Float64")).astype(np.int64)
    for column in frame.columns:
        if column.endswith(("_sum", "_sum2")):
            values = frame[column].to_numpy()
            if np.isnan(values).any():
                frame[column] = np.where(np.isnan(values), 0.0, values)


def _periods(weeks: pd.Series, date_from: dt.date) -> npt.NDArray[np.int64]:
    """1 for the weeks from ``date_from`` on, else 0, decided once per distinct week."""
    values = weeks.tolist()
    distinct = set(values)
    if all(type(w) is dt.date for w in distinct):  # the usual case: a dict lookup per row
        current = {w: int(w >= date_from) for w in distinct}
        return np.fromiter(map(current.__getitem__, values), dtype=np.int64, count=len(values))
    return np.asarray(
        (pd.to_datetime(weeks) >= pd.Timestamp(date_from)).astype(np.int64).to_numpy()
    )


def newest_week(
    bind: Session | Connection, flt: ReportFilter, *, before: dt.date | None = None
) -> dt.date | None:
    """Monday of the newest week with responses in the filter's area, questionnaire,
    version and channel (any period, flagged or not), up to the week before ``before``
    when given; None when there is none. One seek on ``ix_responses_report``."""
    regions = RegionIndex.load(bind)
    conditions = base_conditions(flt.with_(date_from=None, date_to=None), regions, False)
    if before is not None:
        conditions.append(Response.week_start < monday(before))
    found = bind.execute(select(func.max(Response.week_start)).where(*conditions)).scalar_one()
    if isinstance(found, str):  # SQLite returns the maximum of a date column as text
        return dt.date.fromisoformat(found)
    return found  # type: ignore[no-any-return]
