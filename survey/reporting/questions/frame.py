"""SQL pushdown for question statistics: answer counts per design cell, never the answers.

Three ``GROUP BY`` statements over the report's responses, keyed by (district = stratum,
collection point = cluster, region, age group, sex) and optionally one grouping ``by``
(channel, week, or the answer to another single-choice question):

1. responses: the number of responses and the metric sums (the rows of the design, as the
   dashboard's statement gives them, so weighting works the same);
2. choices: the number of answer rows per (question, option); a single-choice answer is
   one row, a multiple-choice answer one row per ticked option, so the count of an option
   is exactly the number of respondents who chose it (per cluster and cell);
3. answered: the number of distinct respondents who answered each multiple-choice question
   (for single-choice and scale questions that is the sum of the option counts).

They become one frame with a row per design cell and, per question, the sufficient
statistics of every option indicator (its count is its sum and its sum of squares; the
number who answered is its non-missing count), of the non-substantive share and of the
scale score. Respondents who did not answer a question are missing for its outcomes, so
the estimates are domain estimates over those who answered, as ``analysis`` would give on
unit rows with NaN for them. Cost grows with cells x options, not with responses.

A week-based report reads the cells the database keeps instead of the responses and
answers: ``report_cells`` for the design rows and ``answer_cells`` for the option and
respondent counts (:mod:`.cell_statements`, same rows); only a report by calendar day and a
cross-tabulation by another question read the answers themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from analysis import AggregateOutcome
from questionnaires import Definition
from questionnaires import Question
from survey.models import Answer
from survey.models import Response
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import included_condition
from survey.reporting.questions.cell_statements import choice_cells
from survey.reporting.questions.cell_statements import design_keys
from survey.reporting.questions.cell_statements import reads_cells
from survey.reporting.questions.cell_statements import respondent_cells
from survey.reporting.questions.cell_statements import response_cells
from survey.reporting.region_index import RegionIndex
from survey.reporting.statement import STAT_COLUMNS
from survey.reporting.statement import base_conditions
from survey.reporting.statement import response_sums

#: Design keys of the question statements.
KEYS: tuple[str, ...] = ("district_id", "point_id", "region_id", "age_group", "sex")
#: Question types with option statistics.
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple", "scale")


def option_column(question: str, value: str) -> str:
    """Frame column with the count of respondents who chose ``value``."""
    return f"c|{question}|{value}"


def answered_column(question: str) -> str:
    """Frame column with the count of respondents who answered ``question``."""
    return f"a|{question}"


def seen_column(question: str) -> str:
    """Frame column with the count of respondents shown ``question`` (skip logic)."""
    return f"s|{question}"


def nonsubstantive_column(question: str) -> str:
    """Frame column with the count of non-substantive answers (不了解/说不清)."""
    return f"ns|{question}"


def score_columns(question: str) -> tuple[str, str, str]:
    """Frame columns with the sum, sum of squares and count of a scale question's scores."""
    return f"sc|{question}", f"sq|{question}", f"sn|{question}"


@dataclass(frozen=True)
class QuestionFrame:
    """Design rows with answer statistics, the outcomes they define, and what was read."""

    frame: pd.DataFrame
    outcomes: dict[str, AggregateOutcome]
    questions: tuple[Question, ...]
    rows_read: int


def choice_questions(defn: Definition) -> tuple[Question, ...]:
    """Questions with options (single, multiple, scale), in display order."""
    return tuple(q for q in defn.questions if q.type in CHOICE_TYPES and q.options)


def _where(flt: ReportFilter, regions: RegionIndex) -> list[ColumnElement[bool]]:
    conditions = base_conditions(flt, regions, with_previous=False)
    if not flt.include_flagged:
        conditions.append(included_condition(Response.flags))
    return conditions


def by_column(by: str | None) -> tuple[ColumnElement[Any] | None, Any]:
    """The SQL expression of a grouping that needs its own column, and the answers alias
    to join for a question (``question:KEY``)."""
    if by == "channel":
        return Response.channel_id, None
    if by == "week":
        return Response.week_start, None
    if by is not None and by.startswith("question:"):
        other = aliased(Answer, name="by_answer")
        return other.value, other
    return None, None


def _join_by(query: Any, by: str | None, other: Any) -> Any:
    if other is None or by is None:
        return query
    key = by.split(":", 1)[1]
    return query.outerjoin(other, and_(other.response_id == Response.id, other.question_key == key))


def _keys(by_expr: ColumnElement[Any] | None, names: Sequence[str] = KEYS) -> list[Any]:
    keys: list[Any] = [getattr(Response, c) for c in names]
    if by_expr is not None:
        keys.append(by_expr.label("by"))
    return keys


def response_statement(flt: ReportFilter, regions: RegionIndex, by: str | None = None) -> Any:
    """Responses and metric sums per design cell (and ``by``)."""
    by_expr, other = by_column(by)
    keys = _keys(by_expr, design_keys(flt, by))
    query = _join_by(select(*keys, *response_sums()).select_from(Response), by, other)
    return query.where(*_where(flt, regions)).group_by(*keys)


def choice_statement(
    flt: ReportFilter, regions: RegionIndex, questions: Sequence[str], by: str | None = None
) -> Any:
    """Answer rows per (question, option, design cell, ``by``)."""
    by_expr, other = by_column(by)
    keys = [Answer.question_key, Answer.value, *_keys(by_expr, design_keys(flt, by))]
    query = select(*keys, func.count().label("count")).select_from(Answer)
    query = _join_by(query.join(Response, Response.id == Answer.response_id), by, other)
    conditions = [*_where(flt, regions), Answer.question_key.in_(list(questions))]
    return query.where(*conditions).group_by(*keys)


def distinct_statement(
    flt: ReportFilter,
    regions: RegionIndex,
    questions: Sequence[str],
    by: str | None = None,
    values: Iterable[str] | None = None,
) -> Any:
    """Distinct respondents per (question, design cell, ``by``) with an answer to each of
    ``questions`` (among ``values``, if given)."""
    by_expr, other = by_column(by)
    keys = [Answer.question_key, *_keys(by_expr, design_keys(flt, by))]
    query = select(*keys, func.count(func.distinct(Answer.response_id)).label("count"))
    query = _join_by(
        query.select_from(Answer).join(Response, Response.id == Answer.response_id), by, other
    )
    conditions = [*_where(flt, regions), Answer.question_key.in_(list(questions))]
    if values is not None:
        conditions.append(Answer.value.in_(sorted(values)))
    return query.where(*conditions).group_by(*keys)


def load_question_frame(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    regions: RegionIndex,
    *,
    by: str | None = None,
    questions: Sequence[Question] | None = None,
) -> QuestionFrame:
    """Run the statements and assemble the design rows with every question's statistics."""
    conn = bind if isinstance(bind, Connection) else bind.connection()
    chosen = tuple(questions) if questions is not None else choice_questions(defn)
    names = [*design_keys(flt, by), *(["by"] if by_column(by)[0] is not None else [])]
    read = _Statements(flt, regions, by, conn.dialect.name == "sqlite")
    base = conn.execute(read.responses()).all()
    frame = _frame(base, [*names, "n", *STAT_COLUMNS])
    index = {tuple(row[: len(names)]): i for i, row in enumerate(base)}
    counts = _Counts(index, len(base), len(names))
    needed = sorted({q.key for q in chosen} | {q.show_if.question for q in chosen if q.show_if})
    if needed:
        for row in conn.execute(read.choices(needed)):
            counts.add(option_column(row[0], row[1]), row[2:-1], row[-1])
        multiple = [q.key for q in chosen if q.type == "multiple"]
        if multiple:
            for row in conn.execute(read.respondents(multiple)):
                counts.add(answered_column(row[0]), row[1:-1], row[-1])
    columns = _question_columns(conn, flt, regions, defn, chosen, counts, by)
    everyone = frame["n"].to_numpy(dtype=np.float64)
    for q in chosen:
        if q.show_if is None:
            columns[seen_column(q.key)] = everyone
    frame = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
    for key in KEYS:
        if key not in frame.columns:  # an unweighted report's rows are whole clusters
            frame[key] = None
    _design_columns(frame)
    return QuestionFrame(frame, _outcomes(chosen), chosen, len(base))


@dataclass(frozen=True)
class _Statements:
    """The frame's statements: over the cells the database keeps when they hold what the
    report asks (:func:`reads_cells`), else over the responses and answers."""

    flt: ReportFilter
    regions: RegionIndex
    by: str | None
    sqlite: bool

    @property
    def cells(self) -> bool:
        return reads_cells(self.flt, self.by)

    def responses(self) -> Any:
        if self.cells:
            return response_cells(self.flt, self.regions, self.by, self.sqlite)
        return response_statement(self.flt, self.regions, self.by)

    def choices(self, questions: Sequence[str]) -> Any:
        if self.cells:
            return choice_cells(self.flt, self.regions, questions, self.by, self.sqlite)
        return choice_statement(self.flt, self.regions, questions, self.by)

    def respondents(self, questions: Sequence[str]) -> Any:
        if self.cells:
            return respondent_cells(self.flt, self.regions, questions, self.by, self.sqlite)
        return distinct_statement(self.flt, self.regions, questions, self.by)


class _Counts:
    """Counts from the statements, accumulated into arrays aligned with the design rows."""

    def __init__(self, index: dict[tuple[Any, ...], int], size: int, width: int) -> None:
        self.index = index
        self.size = size
        self.width = width
        self.arrays: dict[str, np.ndarray] = {}

    def add(self, column: str, key: Sequence[Any], count: int) -> None:
        i = self.index.get(tuple(key[: self.width]))
        if i is None:  # cannot happen: the same WHERE clause as the response rows
            return
        self.get(column)[i] += count

    def get(self, column: str) -> np.ndarray:
        found = self.arrays.get(column)
        if found is None:
            found = self.arrays[column] = np.zeros(self.size)
        return found


def _question_columns(
    conn: Connection,
    flt: ReportFilter,
    regions: RegionIndex,
    defn: Definition,
    questions: Sequence[Question],
    counts: _Counts,
    by: str | None,
) -> dict[str, np.ndarray]:
    """Per question: option counts, answered, seen, non-substantive and score sums."""
    out: dict[str, np.ndarray] = {}
    for q in questions:
        options = {
            option_column(q.key, o.value): counts.get(option_column(q.key, o.value))
            for o in q.options
        }
        out.update(options)
        if q.type == "multiple":
            out[answered_column(q.key)] = counts.get(answered_column(q.key))
        else:
            out[answered_column(q.key)] = np.sum(list(options.values()), axis=0)
        nonsub = [counts.get(option_column(q.key, o.value)) for o in q.options if not o.substantive]
        out[nonsubstantive_column(q.key)] = (
            np.sum(nonsub, axis=0) if nonsub else np.zeros(counts.size)
        )
        seen = _seen(conn, flt, regions, defn, q, counts, by)
        if seen is not None:
            out[seen_column(q.key)] = seen
        if q.type == "scale":
            total, squares, n = score_columns(q.key)
            scored = [
                (counts.get(option_column(q.key, o.value)), float(o.score))
                for o in q.options
                if o.substantive and o.score is not None
            ]
            out[total] = np.sum([c * s for c, s in scored], axis=0)
            out[squares] = np.sum([c * s * s for c, s in scored], axis=0)
            out[n] = np.sum([c for c, _ in scored], axis=0)
    return out


def _seen(
    conn: Connection,
    flt: ReportFilter,
    regions: RegionIndex,
    defn: Definition,
    q: Question,
    counts: _Counts,
    by: str | None,
) -> np.ndarray | None:
    """Respondents shown ``q``: all, or those whose answer opened it (answers to hidden
    questions are never stored, so an answer to the condition means it was visible)."""
    cond = q.show_if
    if cond is None:
        return None  # filled with n by the caller
    source = defn.question(cond.question) if cond.question in defn else None
    if source is not None and (source.type != "multiple" or len(cond.values) == 1):
        return np.sum([counts.get(option_column(cond.question, v)) for v in cond.values], axis=0)
    seen = _Counts(counts.index, counts.size, counts.width)
    statement = distinct_statement(flt, regions, [cond.question], by, cond.values)
    for row in conn.execute(statement):
        seen.add("seen", row[1:-1], row[-1])
    return seen.get("seen")


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    """Rows to a frame, column by column."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pd.DataFrame({name: list(values) for name, values in zip(names, columns, strict=True)})


def _design_columns(frame: pd.DataFrame) -> None:
    """Period (always 1), stratum (0 without a district), cluster (the point, or minus the
    region for responses without a point), numeric sums; as the dashboard's rows."""
    frame["period"] = np.int64(1)
    if frame.empty:
        frame["stratum"] = pd.Series(dtype="int64")
        frame["cluster"] = pd.Series(dtype="int64")
        return
    frame["stratum"] = frame["district_id"].fillna(0).astype(np.int64)
    point = frame["point_id"].astype("Float64")
    frame["cluster"] = point.fillna(-frame["region_id"].astype("Float64")).astype(np.int64)
    frame["n"] = frame["n"].astype(np.int64)
    for column in STAT_COLUMNS:
        if column.endswith("_n"):
            frame[column] = frame[column].astype(np.int64)
        else:
            frame[column] = frame[column].astype("float64").fillna(0.0)


def _outcomes(questions: Sequence[Question]) -> dict[str, AggregateOutcome]:
    """Outcome specifications: every option indicator, the non-substantive share and the
    scale score, each non-missing for those who answered."""
    out: dict[str, AggregateOutcome] = {}
    for q in questions:
        answered = answered_column(q.key)
        for o in q.options:
            column = option_column(q.key, o.value)
            out[column] = AggregateOutcome(column, column, answered)
        nonsub = nonsubstantive_column(q.key)
        out[nonsub] = AggregateOutcome(nonsub, nonsub, answered)
        if q.type == "scale":
            total, squares, n = score_columns(q.key)
            out[total] = AggregateOutcome(total, squares, n)
    return out
