"""The question frame's statements over the cells the database keeps, not the answers.

``report_cells`` gives the design rows (responses and metric sums per design cell),
``answer_cells`` the option counts and, in its question rows (``value = ''``), the number of
respondents who answered each question (``survey.models.answer_cell``). Each statement
returns the same rows as its counterpart over the responses and answers in
:mod:`survey.reporting.questions.frame`, so a report reads a few cells per (week, design cell,
option) whatever the number of responses.

Cells hold weeks: a report by calendar day, a cross-tabulation by the answer to another
question (a joint distribution the per-question cells cannot give) and the respondents shown
a question opened by several options of a multiple-choice question read the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select

from survey.models import AnswerCell
from survey.models import ReportCell
from survey.models.answer_cell import QUESTION_ROW
from survey.models.report_cell import NO_CODE
from survey.models.report_cell import NO_ID
from survey.reporting.filters import METRICS
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import included_condition
from survey.reporting.region_index import RegionIndex
from survey.reporting.statement import base_conditions
from survey.reporting.statement import uses_cells

#: Design keys of the question statements (as in ``frame.KEYS``).
KEYS: tuple[str, ...] = ("district_id", "point_id", "region_id", "age_group", "sex")
#: The keys an unweighted report needs: stratum and cluster (age group and sex only define
#: weighting cells; the sums per cluster are what an unweighted estimate is made of).
CLUSTER_KEYS: tuple[str, ...] = KEYS[:3]


def design_keys(flt: ReportFilter, by: str | None) -> tuple[str, ...]:
    """The design keys a question frame groups by: every key when the report is weighted or
    grouped by age group or sex, else only district, point and region (ten times fewer rows
    to fetch and estimate on, the same estimates)."""
    if flt.weighting != "none" or by in ("age_group", "sex"):
        return KEYS
    return CLUSTER_KEYS


#: Groupings besides the design keys that the cells hold.
CELL_BY: dict[str, str] = {"channel": "channel_id", "week": "week_start"}

Cells = type[ReportCell] | type[AnswerCell]


def reads_cells(flt: ReportFilter, by: str | None) -> bool:
    """Whether the question frame of ``flt`` grouped by ``by`` can come from the cells."""
    return uses_cells(flt) and (by is None or by in CELL_BY)


def _column(table: Cells, name: str) -> ColumnElement[Any]:
    """A cell column as the responses hold it (0 and '' back to NULL)."""
    column = getattr(table, name)
    if name in ("district_id", "point_id", "channel_id"):
        return func.nullif(column, NO_ID)
    if name in ("age_group", "sex"):
        return func.nullif(column, NO_CODE)
    return column  # type: ignore[no-any-return]


def _keys(table: Cells, flt: ReportFilter, by: str | None) -> tuple[list[Any], list[Any]]:
    """(selected keys, GROUP BY columns) of the design keys and ``by``."""
    keys = design_keys(flt, by)
    names = [*keys, *([CELL_BY[by]] if by is not None else [])]
    labels = [*keys, *(["by"] if by is not None else [])]
    selected = [_column(table, n).label(label) for n, label in zip(names, labels, strict=True)]
    return selected, [getattr(table, n) for n in names]


def _where(table: Cells, flt: ReportFilter, regions: RegionIndex, listed: bool) -> list[Any]:
    conditions = base_conditions(flt, regions, with_previous=False, listed=listed, table=table)
    if not flt.include_flagged:
        conditions.append(included_condition(table.flags))
    return conditions


def response_cells(flt: ReportFilter, regions: RegionIndex, by: str | None, listed: bool) -> Any:
    """Responses and metric sums per design cell (and ``by``) from ``report_cells``."""
    selected, grouped = _keys(ReportCell, flt, by)
    total = func.sum(ReportCell.n)
    sums: list[Any] = [total.label("n")]
    for metric in METRICS:
        for part in ("n", "sum", "sum2"):
            sums.append(func.sum(getattr(ReportCell, f"{metric}_{part}")).label(f"{metric}_{part}"))
    return (
        select(*selected, *sums)
        .where(*_where(ReportCell, flt, regions, listed))
        .group_by(*grouped)
        .having(total > 0)
    )


def choice_cells(
    flt: ReportFilter, regions: RegionIndex, questions: Sequence[str], by: str | None, listed: bool
) -> Any:
    """Answers per (question, option, design cell, ``by``) from ``answer_cells``."""
    selected, grouped = _keys(AnswerCell, flt, by)
    total = func.sum(AnswerCell.n)
    conditions = _where(AnswerCell, flt, regions, listed)
    conditions += [AnswerCell.question_key.in_(list(questions)), AnswerCell.value != QUESTION_ROW]
    return (
        select(AnswerCell.question_key, AnswerCell.value, *selected, total.label("count"))
        .where(*conditions)
        .group_by(AnswerCell.question_key, AnswerCell.value, *grouped)
        .having(total > 0)
    )


def respondent_cells(
    flt: ReportFilter, regions: RegionIndex, questions: Sequence[str], by: str | None, listed: bool
) -> Any:
    """Respondents who answered each of ``questions`` per (question, design cell, ``by``):
    the sum of every row of the question, its options and its correction row."""
    selected, grouped = _keys(AnswerCell, flt, by)
    total = func.sum(AnswerCell.n)
    conditions = _where(AnswerCell, flt, regions, listed)
    conditions.append(AnswerCell.question_key.in_(list(questions)))
    return (
        select(AnswerCell.question_key, *selected, total.label("count"))
        .where(*conditions)
        .group_by(AnswerCell.question_key, *grouped)
        .having(total > 0)
    )
