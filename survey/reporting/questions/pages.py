"""Question statistics, cross-tabulations and free-text answers for staff, within their
scope (the filter comes from :func:`survey.reporting.report_requests.report_filter`).

Question statistics are per questionnaire version (options differ between versions): the
version asked for, else the newest version of the questionnaire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from questionnaires import Definition
from questionnaires import Question
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.models import User
from survey.reporting import ReportFilter
from survey.reporting import report_requests as reports
from survey.reporting.charts.question_charts import question_chart
from survey.reporting.questions.crosstab import CROSS_BY
from survey.reporting.questions.crosstab import crosstab as cross_table
from survey.reporting.questions.free_text import iter_text_answers
from survey.reporting.questions.free_text import text_page
from survey.reporting.questions.results import CrossTable
from survey.reporting.questions.results import QuestionReport
from survey.reporting.questions.results import TextAnswer
from survey.reporting.questions.results import TextPage
from survey.reporting.questions.stats import question_stats
from survey.reporting.report_requests import ReportRequest
from survey.services import choices
from survey.services import estimate_settings
from survey.services.questionnaires import definition_of


@dataclass(frozen=True)
class VersionFilter:
    """A report filter fixed to one questionnaire version, with its definition."""

    filter: ReportFilter
    version: QuestionnaireVersion
    definition: Definition


def newest_version(questionnaire_id: int) -> QuestionnaireVersion:
    """The newest version of a questionnaire (``NotFound`` without any)."""
    found = (
        db.session.execute(
            db.select(QuestionnaireVersion)
            .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
            .order_by(QuestionnaireVersion.version.desc())
        )
        .scalars()
        .first()
    )
    if found is None:
        raise NotFound("问卷还没有版本。")
    return found


def version_filter(user: User, req: ReportRequest) -> VersionFilter:
    """The user's filter for ``req``, fixed to the asked (or newest) version."""
    flt = reports.report_filter(user, req)
    if flt.version_id is not None:
        version = db.session.get(QuestionnaireVersion, flt.version_id)
        assert version is not None  # report_filter checked it
    else:
        version = newest_version(flt.questionnaire_id)
        flt = flt.with_(version_id=version.id)
    return VersionFilter(flt, version, definition_of(version))


def statistics(vf: VersionFilter) -> QuestionReport:
    """Statistics of every choice question of the version."""
    return question_stats(db.session, vf.filter, vf.definition)


def chart_png(vf: VersionFilter, key: str) -> bytes:
    """The bar chart of question ``key`` as a PNG (``NotFound`` for a question without one)."""
    question = vf.definition.question(key) if key in vf.definition else None
    if question is None or question.type not in ("single", "multiple", "scale"):
        raise NotFound("题目不存在或没有选项。")
    report = question_stats(db.session, vf.filter, vf.definition)
    stat = next((q for q in report.questions if q.key == key), None)
    if stat is None:
        raise NotFound("题目不存在或没有选项。")
    return question_chart(stat, "png")


def crosstab(vf: VersionFilter, question: str, by: str) -> CrossTable:
    """``question`` by ``by`` (``CROSS_BY`` or ``question:KEY``)."""
    return cross_table(db.session, vf.filter, vf.definition, question, by)


def cross_choices(defn: Definition) -> tuple[list[Question], list[tuple[str, str]]]:
    """Questions a cross-tabulation can analyse, and the groupings it offers."""
    choice = [q for q in defn.questions if q.type in ("single", "multiple", "scale") and q.options]
    groupings = list(CROSS_BY.items()) + [
        (f"question:{q.key}", f"题目：{q.text}") for q in choice if q.type in ("single", "scale")
    ]
    return choice, groupings


def text_questions(defn: Definition) -> list[Question]:
    """Questions with free text: text questions and choice questions with 其他."""
    return [q for q in defn.questions if q.type == "text" or q.allow_other]


def _text_question(defn: Definition, key: str) -> Question:
    found = [q for q in text_questions(defn) if q.key == key]
    if not found:
        raise InvalidInput("该题目没有文字回答。")
    return found[0]


def free_text(vf: VersionFilter, key: str, search: str, page: int) -> TextPage:
    """A page of free-text answers to ``key`` containing ``search``."""
    _text_question(vf.definition, key)
    return text_page(db.session, vf.filter, key, search=search, page=page)


def all_free_text(vf: VersionFilter, key: str, search: str) -> Iterator[TextAnswer]:
    """Every matching free-text answer (streamed)."""
    _text_question(vf.definition, key)
    return iter_text_answers(db.session, vf.filter, key, search=search)


def command_line_filter(
    key: str,
    *,
    version: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    region_code: str | None = None,
    channel_code: str | None = None,
    weighting: str = "none",
    include_flagged: bool = False,
    source: str | None = None,
) -> VersionFilter:
    """The filter of a command-line report (the whole database: no officer's scope).

    Unknown questionnaire, version, region or channel: ``NotFound``; a bad weighting or a
    period that ends before it starts: ``InvalidInput``.
    """
    questionnaire = choices.questionnaire_by_key(key)
    if version is None:
        chosen = newest_version(questionnaire.id)
    else:
        found = db.session.execute(
            db.select(QuestionnaireVersion).where(
                QuestionnaireVersion.questionnaire_id == questionnaire.id,
                QuestionnaireVersion.version == version,
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"问卷 {key} 没有第 {version} 版 / no version {version}")
        chosen = found
    flt = ReportFilter(
        questionnaire_id=questionnaire.id,
        version_id=chosen.id,
        date_from=date_from,
        date_to=date_to,
        region_path=choices.region_by_code(region_code).path if region_code else None,
        channel_id=choices.channel_by_code(channel_code).id if channel_code else None,
        weighting=weighting,  # type: ignore[arg-type]
        include_flagged=include_flagged,
        source=source,
        min_cell_n=estimate_settings.min_cell_n(),
    )
    return VersionFilter(flt, chosen, definition_of(chosen))
