"""Free-text answers (text questions and the 其他 of choice questions): a paged, searchable
list with region, channel and date, and the whole list streamed for download. Texts are
masked (phone numbers, ID numbers, names: ``questionnaires.mask_personal``) before they
leave this module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import mask_personal
from survey.models import Answer
from survey.models import Response
from survey.reporting.channel_rows import channel_names
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import included_condition
from survey.reporting.questions.results import TextAnswer
from survey.reporting.questions.results import TextPage
from survey.reporting.region_index import RegionIndex
from survey.reporting.statement import base_conditions

#: Longest search text accepted.
MAX_SEARCH = 50


def _conditions(flt: ReportFilter, regions: RegionIndex, question: str, search: str) -> list[Any]:
    conditions: list[Any] = base_conditions(flt, regions, with_previous=False)
    if not flt.include_flagged:
        conditions.append(included_condition(Response.flags))
    conditions += [Answer.question_key == question, Answer.text.is_not(None), Answer.text != ""]
    if search:
        conditions.append(Answer.text.contains(search[:MAX_SEARCH], autoescape=True))
    return conditions


def _query(flt: ReportFilter, regions: RegionIndex, question: str, search: str) -> Any:
    return (
        select(
            Response.id,
            Answer.text,
            Response.region_id,
            Response.channel_id,
            Response.submitted_at,
        )
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(*_conditions(flt, regions, question, search))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )


def _answer(
    row: Any, regions: RegionIndex, channels: dict[int, tuple[str, str]], question: str
) -> TextAnswer:
    region = regions.by_id.get(int(row[2]))
    channel = channels.get(int(row[3])) if row[3] is not None else None
    return TextAnswer(
        response_id=int(row[0]),
        text=mask_personal(str(row[1])),  # phones, ID numbers and names never shown
        region=region.name if region else "",
        channel=channel[1] if channel else "",
        submitted_at=row[4],
        question=question,
    )


def text_page(
    bind: Session | Connection,
    flt: ReportFilter,
    question: str,
    *,
    search: str = "",
    page: int = 1,
    per_page: int = 50,
) -> TextPage:
    """Page ``page`` (1-based) of the free-text answers to ``question`` containing ``search``."""
    regions = RegionIndex.load(bind)
    search = search.strip()[:MAX_SEARCH]
    count = (
        select(func.count())
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(*_conditions(flt, regions, question, search))
    )
    total = int(bind.execute(count).scalar_one())
    page = max(1, page)
    rows = bind.execute(
        _query(flt, regions, question, search).limit(per_page).offset((page - 1) * per_page)
    ).all()
    channels = channel_names(bind)
    answers = [_answer(r, regions, channels, question) for r in rows]
    return TextPage(question, search, page, per_page, total, answers)


def iter_text_answers(
    bind: Session | Connection, flt: ReportFilter, question: str, *, search: str = ""
) -> Iterator[TextAnswer]:
    """Every matching free-text answer, newest first, fetched in batches (for download)."""
    regions = RegionIndex.load(bind)
    channels = channel_names(bind)
    statement = _query(flt, regions, question, search.strip()[:MAX_SEARCH])
    conn = bind if isinstance(bind, Connection) else bind.connection()
    # per statement: Connection.execution_options() would change the session's connection
    result = conn.execute(statement, execution_options={"stream_results": True, "yield_per": 2000})
    for row in result:
        yield _answer(row, regions, channels, question)
