"""Rebuild the cells the database keeps: ``report_cells`` and ``answer_cells``.

Triggers keep both tables exact on every write (``survey.models.report_cell``,
``survey.models.answer_cell``, migration 0011). :func:`rebuild_cells` recomputes them from
the responses and answers with one ``GROUP BY`` each, for a repair or after a bulk load that
bypassed the triggers; ``survey cells rebuild`` runs it. The same ``GROUP BY`` statements
(:func:`report_cell_rows`, :func:`answer_cell_rows`) say what the triggers must keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from survey.models import Answer
from survey.models import AnswerCell
from survey.models import QualityFlag
from survey.models import ReportCell
from survey.models import Response
from survey.models.answer_cell import ANSWER_CELL_KEYS
from survey.models.answer_cell import QUESTION_ROW
from survey.models.report_cell import CELL_KEYS
from survey.models.report_cell import CELL_METRICS
from survey.models.report_cell import NO_CODE
from survey.models.report_cell import NO_ID

#: Cell key -> what a missing response value is stored as.
_MISSING: dict[str, Any] = {
    "district_id": NO_ID,
    "point_id": NO_ID,
    "channel_id": NO_ID,
    "age_group": NO_CODE,
    "sex": NO_CODE,
    "source": NO_CODE,
}
REPORT_VALUES: tuple[str, ...] = (
    "n",
    *(f"{m}_{part}" for m in CELL_METRICS for part in ("n", "sum", "sum2")),
)


@dataclass(frozen=True)
class Rebuilt:
    """How many cells each table holds after a rebuild."""

    report_cells: int
    answer_cells: int


def cell_keys() -> list[Any]:
    """A response's cell key, as the triggers store it (missing keys as 0 or '')."""
    out: list[Any] = []
    for name in CELL_KEYS:
        column = getattr(Response, name)
        if name == "flags":
            column = column.bitwise_and(int(QualityFlag.EXCLUDED))
        elif name in _MISSING:
            column = func.coalesce(column, _MISSING[name])
        out.append(column.label(name))
    return out


def report_cell_rows() -> Select[Any]:
    """``report_cells`` as a ``GROUP BY`` over the responses."""
    keys = cell_keys()
    sums: list[Any] = [func.count().label("n")]
    for m in CELL_METRICS:
        column = getattr(Response, m)
        sums += [
            func.count(column).label(f"{m}_n"),
            func.coalesce(func.sum(column), 0.0).label(f"{m}_sum"),
            func.coalesce(func.sum(column * column), 0.0).label(f"{m}_sum2"),
        ]
    return select(*keys, *sums).group_by(*keys)


def answer_cell_rows() -> Any:
    """``answer_cells`` as a ``GROUP BY`` over the answers: option counts, then per question
    (``value = ''``) the correction, respondents who answered it minus its option answers,
    where it is not 0 (``survey.models.answer_cell``)."""
    keys = cell_keys()
    joined = Answer.__table__.join(Response.__table__, Response.id == Answer.response_id)
    valued = and_(Answer.value.is_not(None), Answer.value != QUESTION_ROW)
    options = (
        select(*keys, Answer.question_key, Answer.value, func.count().label("n"))
        .select_from(joined)
        .where(valued)
        .group_by(*keys, Answer.question_key, Answer.value)
    )
    correction = func.count(func.distinct(Answer.response_id)) - func.sum(
        case((valued, 1), else_=0)
    )
    questions = (
        select(
            *keys,
            Answer.question_key,
            literal(QUESTION_ROW).label("value"),
            correction.label("n"),
        )
        .select_from(joined)
        .group_by(*keys, Answer.question_key)
        .having(correction != 0)
    )
    return union_all(options, questions)


def rebuild_cells(conn: Connection) -> Rebuilt:
    """Empty both cell tables and fill them from the responses and answers (flushes; the
    caller commits)."""
    conn.execute(delete(ReportCell))
    conn.execute(insert(ReportCell).from_select([*CELL_KEYS, *REPORT_VALUES], report_cell_rows()))
    conn.execute(delete(AnswerCell))
    conn.execute(insert(AnswerCell).from_select([*ANSWER_CELL_KEYS, "n"], answer_cell_rows()))
    return Rebuilt(
        report_cells=int(conn.execute(select(func.count()).select_from(ReportCell)).scalar_one()),
        answer_cells=int(conn.execute(select(func.count()).select_from(AnswerCell)).scalar_one()),
    )
