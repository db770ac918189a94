"""The raw responses for analysts: one row per response, streamed from the database.

Columns: the response id, point code, region, district, channel, source, submission time
(China time), duration, the quality flags (the ``flags`` bits and one 0/1 column per
``QualityFlag``), ``excluded`` (whether reports leave it out: the one rule,
``survey.reporting.excluded_condition``), the metric columns, then every answer: one
column per question (its option code, text or number; 其他 text in ``KEY__other``) and one
0/1 column per option of a multiple-choice question (empty when the question was not
answered). Responses are read in id order, a batch at a time (keyset pagination), with
their answers, so the CSV never holds more than a batch in memory. SPSS ``.sav`` and Stata
``.dta`` (:mod:`.stat_files`, also a batch at a time) carry Chinese variable and value
labels; options are numbered in questionnaire order there. The codebook lists every
column with its meaning and codes.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import BinaryIO

import numpy as np
from sqlalchemy import Connection
from sqlalchemy import case
from sqlalchemy import select

from questionnaires import Definition
from questionnaires import Question
from questionnaires import mask_personal
from survey.extensions import db
from survey.models import Answer
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Response
from survey.models import User
from survey.reporting import ReportFilter
from survey.reporting import excluded_condition
from survey.reporting.exports.stat_files import Batch
from survey.reporting.exports.stat_files import StatColumn
from survey.reporting.exports.stat_files.dta import write_dta
from survey.reporting.exports.stat_files.sav import write_sav
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.region_index import RegionIndex
from survey.reporting.statement import base_conditions
from survey.reporting.statement import unindexed
from survey.services import audit
from survey.services.csv_files import csv_lines
from survey.timeutil import CST

#: Responses read per batch.
BATCH = 2000
SOURCE_NAMES: dict[str, str] = {"qr": "扫码", "link": "链接", "import": "导入", "paper": "纸质录入"}
FLAG_NAMES: dict[str, str] = {
    "TOO_FAST": "作答过快",
    "STRAIGHT_LINE": "雷同作答",
    "NO_TIMING": "计时缺失",
    "BURST": "集中涌入",
}


@dataclass(frozen=True)
class Variable:
    """One column of the export: name, Chinese label, kind and value labels."""

    name: str
    label: str
    kind: str = "text"  # text | int | float | code (an option code, numbered in sav/dta)
    values: dict[str, str] = field(default_factory=dict)


def _safe_name(raw: str, used: set[str]) -> str:
    """A variable name SPSS and Stata accept (letters, digits, _; at most 32), unique."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", raw)
    if not name or not name[0].isalpha():
        name = "v_" + name
    name = name[:32]
    base, i = name, 2
    while name.lower() in used:
        name = f"{base[: 32 - len(str(i)) - 1]}_{i}"
        i += 1
    used.add(name.lower())
    return name


#: Every quality flag but ``EXCLUDED`` (the ``excluded`` column), in bit order, with its bit.
_FLAGS: tuple[tuple[QualityFlag, int], ...] = tuple(
    (f, int(f))
    for f in sorted((f for f in QualityFlag if f != QualityFlag.EXCLUDED), key=lambda f: int(f))
)


def flag_members() -> list[QualityFlag]:
    """Every quality flag, in bit order (``EXCLUDED`` is the ``excluded`` column)."""
    return [f for f, _ in _FLAGS]


def flag_codes(flags: int) -> str:
    """The codes of the flags set in ``flags``, separated by ``;`` (empty when none)."""
    return ";".join(f.name or "" for f, bit in _FLAGS if flags & bit)


def variables(defn: Definition) -> tuple[list[Variable], dict[tuple[str, str | None], str]]:
    """The columns of the export and, per (question, option or None), its column name."""
    used: set[str] = set()
    out = [
        Variable(_safe_name("id", used), "答卷编号", "int"),
        Variable(_safe_name("point_code", used), "点位编码"),
        Variable(_safe_name("region", used), "区域"),
        Variable(_safe_name("region_code", used), "区域编码"),
        Variable(_safe_name("district", used), "区县"),
        Variable(_safe_name("channel", used), "渠道"),
        Variable(_safe_name("source", used), "来源"),
        Variable(_safe_name("submitted_at", used), "提交时间（北京时间）"),
        Variable(_safe_name("duration_seconds", used), "作答用时（秒）", "float"),
        Variable(_safe_name("flags", used), "质量标记（代码，以分号分隔）"),
    ]
    for flag in flag_members():
        name = flag.name or str(int(flag))
        label = FLAG_NAMES.get(name, name)
        out.append(Variable(_safe_name(f"flag_{name.lower()}", used), f"标记：{label}", "int"))
    out.append(Variable(_safe_name("excluded", used), "是否排除出估计（1=排除）", "int"))
    for metric in METRICS:
        out.append(Variable(_safe_name(metric, used), METRIC_NAMES[metric], "float"))
    columns: dict[tuple[str, str | None], str] = {}
    for q in defn.questions:
        out += _question_variables(q, used, columns)
    return out, columns


def _question_variables(
    q: Question, used: set[str], columns: dict[tuple[str, str | None], str]
) -> list[Variable]:
    out = []
    if q.type == "multiple":
        for o in q.options:
            name = _safe_name(f"{q.key}__{o.value}", used)
            columns[(q.key, o.value)] = name
            out.append(Variable(name, f"{q.text}：{o.label}（1=选择）", "int"))
    else:
        name = _safe_name(q.key, used)
        columns[(q.key, None)] = name
        kind = {"number": "float", "text": "text", "region": "text"}.get(q.type, "code")
        values = {o.value: o.label for o in q.options}
        out.append(Variable(name, q.text, kind, values))
    if q.allow_other:
        name = _safe_name(f"{q.key}__other", used)
        columns[(q.key, "__other")] = name
        out.append(Variable(name, f"{q.text}：其他（请注明）"))
    return out


def _conditions(flt: ReportFilter, regions: RegionIndex) -> list[Any]:
    """The report's conditions, the questionnaire's kept off SQLite's indexes: the export
    reads in id order, and with the questionnaire index SQLite would sort every matching
    response again for each batch instead of walking the id range."""
    conditions: list[Any] = [unindexed(Response.questionnaire_id) == flt.questionnaire_id]
    for condition in base_conditions(flt, regions, with_previous=False):
        if not _is_questionnaire_condition(condition):
            conditions.append(condition)
    # Every response, excluded ones too: the ``excluded`` column says which (issue 11).
    return conditions


def _is_questionnaire_condition(condition: Any) -> bool:
    left = getattr(condition, "left", None)
    return left is not None and getattr(left, "key", None) == "questionnaire_id"


def _query(flt: ReportFilter, regions: RegionIndex) -> Any:
    excluded = case((excluded_condition(Response.flags), 1), else_=0)
    query = (
        select(
            Response.id,
            CollectionPoint.code,
            Response.region_id,
            Response.district_id,
            Response.channel_id,
            Response.source,
            Response.submitted_at,
            Response.duration_seconds,
            Response.flags,
            excluded,
            *(getattr(Response, m) for m in METRICS),
        )
        .outerjoin(CollectionPoint, CollectionPoint.id == Response.point_id)
        .where(*_conditions(flt, regions))
    )
    return query.order_by(Response.id)


def _local(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class _Names:
    regions: RegionIndex
    channels: dict[int, str]


def _base_cells(row: Any, names: _Names) -> list[Any]:
    region = names.regions.by_id.get(int(row[2]))
    district = names.regions.by_id.get(int(row[3])) if row[3] is not None else None
    flags = int(row[8] or 0)
    cells: list[Any] = [
        int(row[0]),
        row[1] or "",
        region.name if region else "",
        region.code if region else "",
        district.name if district else "",
        names.channels.get(int(row[4]), "") if row[4] is not None else "",
        SOURCE_NAMES.get(str(row[5]), str(row[5] or "")),
        _local(row[6]),
        row[7],
        flag_codes(flags),
    ]
    cells += [1 if flags & bit else 0 for _, bit in _FLAGS]
    cells.append(int(row[9]))
    cells += [None if v is None else float(v) for v in row[10:]]
    return cells


@dataclass(frozen=True)
class _Slot:
    """Where a question's answer rows go, as positions in the answer part of a row."""

    own: int | None = None  # its value's column (not for multiple choice)
    source: int = 0  # which field of the answer row is that value: 0 option, 1 text, 2 number
    options: tuple[int, ...] = ()  # multiple choice: every option's 0/1 column
    ticked: dict[str | None, int] = field(default_factory=dict)  # option value -> column
    other: int | None = None  # 其他 text (choice questions that allow it)


def _answer_plan(
    defn: Definition, columns: dict[tuple[str, str | None], str], position: dict[str, int]
) -> dict[str, _Slot]:
    """Each question's slot, its columns counted from the first answer column."""
    first = min((position[name] for name in columns.values()), default=0)

    def at(key: tuple[str, str | None]) -> int | None:
        return position[columns[key]] - first if key in columns else None

    plan: dict[str, _Slot] = {}
    for q in defn.questions:
        other = at((q.key, "__other")) if q.type != "text" else None
        if q.type == "multiple":
            ticked = {o.value: position[columns[(q.key, o.value)]] - first for o in q.options}
            plan[q.key] = _Slot(options=tuple(ticked.values()), ticked=ticked, other=other)
        else:
            source = {"text": 1, "number": 2}.get(q.type, 0)
            plan[q.key] = _Slot(own=at((q.key, None)), source=source, other=other)
    return plan


def _answer_cells(answers: Sequence[Any], plan: dict[str, _Slot], width: int) -> list[Any]:
    """The answer part of a row from the response's answer rows (key, value, text, number);
    a multiple-choice question answered has 0 in every option it did not tick."""
    cells: list[Any] = [None] * width
    for key, value, text, number in answers:
        slot = plan.get(key)
        if slot is None:  # a question no longer in this version
            continue
        if slot.options:
            for i in slot.options:
                if cells[i] is None:
                    cells[i] = 0
            ticked = slot.ticked.get(value)
            if ticked is not None:
                cells[ticked] = 1
        elif slot.own is not None:
            # residents' own words are masked (phones, ID numbers, names) in every export
            cells[slot.own] = (value, mask_personal(text) if text else text, number)[slot.source]
        if text and slot.other is not None:
            cells[slot.other] = mask_personal(text)
    return cells


_ANSWER_COLUMNS = "response_id, question_key, value, text, number"


def _batch_answers(conn: Connection, ids: Sequence[int]) -> dict[int, list[Any]]:
    """The answer rows (key, value, text, number) of a batch's responses, by response.

    Plain DB-API rows (SQLAlchemy's Row objects cost more than the query here). A batch that
    fills most of its id range reads the range (one index range scan; answers of responses
    outside the filter are dropped); successive batches' ranges do not overlap.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    table = Answer.__table__.name  # type: ignore[attr-defined]
    wanted = set(ids)
    if ids[-1] - ids[0] < 2 * len(ids):
        where, params = f"response_id BETWEEN {mark} AND {mark}", (ids[0], ids[-1])
    else:
        where, params = f"response_id IN ({', '.join([mark] * len(ids))})", tuple(ids)
    cursor = conn.exec_driver_sql(f"SELECT {_ANSWER_COLUMNS} FROM {table} WHERE {where}", params)
    out: dict[int, list[Any]] = {}
    for row in cursor.cursor.fetchall():
        if row[0] in wanted:
            out.setdefault(row[0], []).append(row[1:])
    return out


def iter_rows(flt: ReportFilter, defn: Definition) -> Iterator[list[Any]]:
    """Every response of the filter as a row of :func:`variables`, a batch at a time."""
    regions = RegionIndex.load(db.session)
    channels = {int(i): n for i, n in db.session.execute(select(Channel.id, Channel.name))}
    names = _Names(regions, channels)
    found, columns = variables(defn)
    plan = _answer_plan(defn, columns, {v.name: i for i, v in enumerate(found)})
    width = len(set(columns.values()))
    conn = db.session.connection()
    query = _query(flt, regions)
    last = 0
    while True:
        batch = conn.execute(query.where(Response.id > last).limit(BATCH)).all()
        if not batch:
            return
        ids = [int(r[0]) for r in batch]
        by_response = _batch_answers(conn, ids)
        for r in batch:
            answers = by_response.get(int(r[0]), ())
            yield _base_cells(r, names) + _answer_cells(answers, plan, width)
        last = ids[-1]


def count_rows(flt: ReportFilter) -> int:
    """How many responses the export will hold (for a progress bar)."""
    from sqlalchemy import func

    query = _query(flt, RegionIndex.load(db.session)).order_by(None)
    return int(db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def csv_chunks(
    flt: ReportFilter, defn: Definition, progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The export as CSV (UTF-8 with BOM, formula-escaped), chunk by chunk."""
    found, _ = variables(defn)

    def rows() -> Iterator[list[Any]]:
        for row in iter_rows(flt, defn):
            if progress is not None:
                progress(1)
            yield row

    return csv_lines([v.name for v in found], rows())


def codebook_rows(defn: Definition) -> list[list[str]]:
    """Codebook: variable, label, kind, codes in the CSV, numbers in SPSS/Stata."""
    found, _ = variables(defn)
    rows = []
    for v in found:
        codes = "; ".join(f"{code}={label}" for code, label in v.values.items())
        numbers = "; ".join(f"{i}={label}" for i, label in enumerate(v.values.values(), start=1))
        rows.append([v.name, v.label, v.kind, codes, numbers])
    return rows


CODEBOOK_HEADERS = ["变量名", "含义", "类型", "CSV 中的取值", "SPSS/Stata 中的数值"]


def _column_arrays(rows: Sequence[list[Any]], found: Sequence[Variable]) -> Batch:
    """A batch of rows as one array per column: numbers (option codes numbered 1..k in
    questionnaire order) as float64 with NaN for missing, text as UTF-8 bytes."""
    out: Batch = []
    for i, v in enumerate(found):
        cells = [row[i] for row in rows]
        if v.kind == "code":
            numbers = {code: float(n) for n, code in enumerate(v.values, start=1)}
            out.append(np.array([numbers.get(c, np.nan) for c in cells], dtype="f8"))
        elif v.kind in ("int", "float"):
            out.append(np.array([np.nan if c is None else float(c) for c in cells], dtype="f8"))
        else:
            text = [("" if c is None else str(c)).encode("utf-8") for c in cells]
            out.append(np.array(text, dtype="S") if text else np.array([], dtype="S1"))
    return out


def _spool(
    flt: ReportFilter,
    defn: Definition,
    spool: BinaryIO,
    progress: Callable[[int], None] | None,
) -> tuple[int, list[int]]:
    """First pass: every row into ``spool``, a batch at a time; returns the row count and
    each text column's widest value in bytes (the files' layout needs both up front)."""
    found, _ = variables(defn)
    widths = [0] * len(found)
    total = 0

    def flush(rows: list[list[Any]]) -> None:
        nonlocal total
        arrays = _column_arrays(rows, found)
        for i, array in enumerate(arrays):
            if array.dtype.kind == "S":
                widths[i] = max(widths[i], array.dtype.itemsize)
        pickle.dump(arrays, spool, protocol=pickle.HIGHEST_PROTOCOL)
        total += len(rows)
        if progress is not None:
            progress(len(rows))

    rows: list[list[Any]] = []
    for row in iter_rows(flt, defn):
        rows.append(row)
        if len(rows) == BATCH:
            flush(rows)
            rows = []
    if rows:
        flush(rows)
    return total, widths


def _spooled(spool: BinaryIO) -> Iterator[Batch]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def stat_columns(defn: Definition, widths: Sequence[int]) -> list[StatColumn]:
    """The export's variables for SPSS/Stata: labels, value labels of option numbers, and
    each text column's width (at least 1 byte)."""
    found, _ = variables(defn)
    return [
        StatColumn(
            v.name,
            v.label,
            max(widths[i], 1) if v.kind == "text" else 0,
            {n: label for n, label in enumerate(v.values.values(), start=1)}
            if v.kind == "code"
            else {},
            0 if v.kind in ("int", "code") else 2,
        )
        for i, v in enumerate(found)
    ]


def write_stats_file(
    flt: ReportFilter,
    defn: Definition,
    out: BinaryIO,
    fmt: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``.sav`` or ``.dta`` with Chinese variable and value labels to ``out`` (a
    seekable binary file); returns the rows. Two passes, so memory stays one batch: the rows
    go to a temporary spool file while the text widths are measured, then the file is
    written from the spool (``progress`` is called with the rows of each batch, twice)."""
    with tempfile.TemporaryFile() as spool:
        total, widths = _spool(flt, defn, spool, progress)
        columns = stat_columns(defn, widths)
        batches = _spooled(spool)
        if progress is not None:
            batches = _counted(batches, progress)
        writer = write_sav if fmt == "sav" else write_dta
        return writer(out, columns, total, batches)


def _counted(batches: Iterator[Batch], progress: Callable[[int], None]) -> Iterator[Batch]:
    for batch in batches:
        progress(len(batch[0]) if batch else 0)
        yield batch


def record_export(actor: User | None, flt: ReportFilter, fmt: str) -> None:
    """Audit-log a raw export (who, which questionnaire, format, how many rows). Flushes."""
    audit.record(
        actor,
        "export_responses",
        "questionnaire",
        flt.questionnaire_id,
        format=fmt,
        count=count_rows(flt),
    )
