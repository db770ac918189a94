"""Question statistics: every choice question's answer distribution with design-based
intervals, for the dashboard's filters (period, region, channel, weighting, flagged
responses in or out).

The design is the dashboard's (collection point = cluster, district = stratum, weights
calibrated to the population when asked), built from the aggregated rows of
:mod:`survey.reporting.questions.frame`; a share is the domain mean of an option indicator
over the respondents who answered, so unit rows and aggregated rows give the same numbers.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import SurveyDesign
from analysis import kish_n_eff
from analysis import svy_estimates
from questionnaires import Definition
from questionnaires import Question
from survey.models import ReportCell
from survey.models import Response
from survey.reporting.estimates import estimate_from_row
from survey.reporting.estimates import plain_key
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import excluded_condition
from survey.reporting.margins import population_counts
from survey.reporting.planner import report_planner
from survey.reporting.questions.frame import QuestionFrame
from survey.reporting.questions.frame import answered_column
from survey.reporting.questions.frame import load_question_frame
from survey.reporting.questions.frame import nonsubstantive_column
from survey.reporting.questions.frame import option_column
from survey.reporting.questions.frame import score_columns
from survey.reporting.questions.frame import seen_column
from survey.reporting.questions.results import OptionStat
from survey.reporting.questions.results import QuestionReport
from survey.reporting.questions.results import QuestionStat
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import Estimate
from survey.reporting.results import WeightingInfo
from survey.reporting.results import plain
from survey.reporting.statement import base_conditions
from survey.reporting.statement import uses_cells
from survey.reporting.weighting import OUTCOMES
from survey.reporting.weighting import WeightedDesign
from survey.reporting.weighting import unweighted_design
from survey.reporting.weighting import weighted_design


@dataclass(frozen=True)
class Designs:
    """The unweighted design and the weighted one (None when the report is unweighted or
    the weighting could not be applied; ``info`` says which and why)."""

    plain: SurveyDesign | None
    weighted: SurveyDesign | None
    info: WeightingInfo

    @property
    def applied(self) -> SurveyDesign | None:
        """The design of the report's weighting as applied."""
        return self.weighted if self.weighted is not None else self.plain


def build_designs(
    bind: Session | Connection, data: QuestionFrame, flt: ReportFilter, regions: RegionIndex
) -> Designs:
    """Unweighted and (if asked) weighted designs of the question frame."""
    frame = data.frame
    outcomes = {**OUTCOMES, **data.outcomes}
    if frame.empty or int(frame["n"].sum()) == 0:
        return Designs(None, None, WeightingInfo.plain(flt.weighting, message="无有效答卷"))
    plain_design = unweighted_design(frame).replace_weights(outcomes=outcomes)
    if flt.weighting == "none":
        info = WeightingInfo.plain("none", kish=kish_n_eff(plain_design))
        return Designs(plain_design, None, info)
    strata = [int(s) for s in frame["stratum"].unique() if s != 0]
    weighted: WeightedDesign = weighted_design(
        frame, flt.weighting, population_counts(bind, strata), regions, min_cell_n=flt.min_cell_n
    )
    if weighted.design is None or weighted.info.applied == "none":
        return Designs(plain_design, None, weighted.info)
    return Designs(plain_design, weighted.design.replace_weights(outcomes=outcomes), weighted.info)


def estimates_many(
    design: SurveyDesign | None,
    methods: Mapping[str, str],
    by: str | None,
    *,
    min_n: int,
    level: float,
) -> dict[str, dict[Hashable, Estimate]]:
    """Estimates of several outcomes (outcome -> interval method) per value of ``by`` (key
    None: the whole design), in one pass of ``analysis.svy_estimates`` (bit for bit what
    one ``svy_estimate`` call per outcome gives)."""
    if design is None or not methods:
        return {}
    frames = svy_estimates(design, list(methods), by, method=dict(methods), level=level)
    return {
        outcome: _keyed(frame, outcome, by, methods[outcome], min_n)
        for outcome, frame in frames.items()
    }


def _keyed(
    frame: pd.DataFrame, outcome: str, by: str | None, method: str, min_n: int
) -> dict[Hashable, Estimate]:
    keys = frame[by].tolist() if by is not None else [None]
    # Plain records, column by column: pandas' itertuples (and to_dict) cost 3-6 ms per
    # one-row frame, 0.4-0.7 s for a page's hundred outcomes.
    columns = {str(c): frame[c].tolist() for c in frame.columns}
    rows = [
        SimpleNamespace(**{c: values[i] for c, values in columns.items()})
        for i in range(len(frame))
    ]
    return {
        plain_key(key): estimate_from_row(outcome, row, method, min_n)
        for key, row in zip(keys, rows, strict=True)
    }


@dataclass(frozen=True)
class Overall:
    """Whole-design estimates of every outcome a question table shows, per design."""

    plain: Mapping[str, Estimate]
    weighted: Mapping[str, Estimate] | None

    @classmethod
    def of(
        cls, designs: Designs, methods: Mapping[str, str], *, min_n: int, level: float
    ) -> Overall:
        """One ``svy_estimates`` pass per design over the outcomes of ``methods``."""

        def whole(design: SurveyDesign | None) -> dict[str, Estimate]:
            found = estimates_many(design, methods, None, min_n=min_n, level=level)
            return {outcome: by_key[None] for outcome, by_key in found.items()}

        weighted = whole(designs.weighted) if designs.weighted is not None else None
        return cls(whole(designs.plain), weighted)


def question_outcomes(q: Question, frame: pd.DataFrame) -> dict[str, str]:
    """Outcome column -> interval method of every figure :func:`question_stat` shows."""
    methods = {option_column(q.key, o.value): "logit" for o in q.options}
    if any(not o.substantive for o in q.options):
        nonsub = nonsubstantive_column(q.key)
        methods[nonsub] = share_method(frame, nonsub)
    if q.type == "scale":
        methods[score_columns(q.key)[0]] = "mean"
    return methods


def share_method(frame: pd.DataFrame, column: str) -> str:
    """``logit`` for a 0/1 indicator, ``mean`` otherwise (two non-substantive options
    ticked by one respondent of a multiple-choice question)."""
    answered = frame[column.replace("ns|", "a|", 1)] if column.startswith("ns|") else None
    if answered is not None and bool((frame[column] > answered).any()):
        return "mean"
    return "logit"


def question_stat(
    q: Question,
    number: int,
    data: QuestionFrame,
    designs: Designs,
    *,
    min_n: int,
    level: float,
    overall: Overall | None = None,
) -> QuestionStat:
    """The distribution of one question: counts, shares with intervals, seen, answered.

    ``overall`` holds the estimates when the caller computed them for several questions at
    once (:meth:`Overall.of`); otherwise this question's are computed here.
    """
    frame = data.frame
    if overall is None:
        overall = Overall.of(designs, question_outcomes(q, frame), min_n=min_n, level=level)
    plain_found, weighted_found = overall.plain, overall.weighted

    def one(found: Mapping[str, Estimate] | None, outcome: str) -> Estimate | None:
        if found is None:
            return None
        return found.get(outcome) or Estimate.empty(outcome)

    def required(outcome: str) -> Estimate:
        return one(plain_found, outcome) or Estimate.empty(outcome)

    options = [
        OptionStat(
            value=o.value,
            label=o.label,
            substantive=o.substantive,
            count=int(frame[option_column(q.key, o.value)].sum()),
            unweighted=required(option_column(q.key, o.value)),
            weighted=one(weighted_found, option_column(q.key, o.value)),
        )
        for o in q.options
    ]
    has_nonsub = any(not o.substantive for o in q.options)
    nonsub = nonsubstantive_column(q.key)
    score = score_columns(q.key)[0]
    return QuestionStat(
        key=q.key,
        number=number,
        text=q.text,
        type=q.type,
        section=q.section,
        seen=int(frame[seen_column(q.key)].sum()),
        answered=int(frame[answered_column(q.key)].sum()),
        options=options,
        non_substantive=required(nonsub) if has_nonsub else None,
        non_substantive_weighted=one(weighted_found, nonsub) if has_nonsub else None,
        score=required(score) if q.type == "scale" else None,
        score_weighted=one(weighted_found, score) if q.type == "scale" else None,
        condition=condition_text(q, data),
    )


def condition_text(q: Question, data: QuestionFrame) -> str:
    """Chinese description of a question's skip logic ("" when always shown)."""
    cond = q.show_if
    if cond is None:
        return ""
    source = next((s for s in data.questions if s.key == cond.question), None)
    if source is None:
        return f"仅当 {cond.question} 为 {'、'.join(sorted(cond.values))} 时显示"
    labels = [o.label for o in source.options if o.value in cond.values]
    return f"仅向“{source.text}”回答“{'、'.join(labels)}”者显示"


def question_numbers(defn: Definition) -> dict[str, int]:
    """Question numbers as the questionnaire shows them (1-based, in display order)."""
    return {q.key: i for i, q in enumerate(defn.questions, start=1)}


def excluded_count(bind: Session | Connection, flt: ReportFilter, regions: RegionIndex) -> int:
    """Responses in the filter's scope carrying an excluding quality flag."""
    if uses_cells(flt):
        conditions = base_conditions(flt, regions, with_previous=False, table=ReportCell)
        query = select(func.coalesce(func.sum(ReportCell.n), 0))
        query = query.where(*conditions, excluded_condition(ReportCell.flags))
        return int(bind.execute(query).scalar_one())
    conditions = base_conditions(flt, regions, with_previous=False)
    query = select(func.count()).select_from(Response)
    query = query.where(*conditions, excluded_condition(Response.flags))
    return int(bind.execute(query).scalar_one())


def question_stats(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    *,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
) -> QuestionReport:
    """Statistics of every single-choice, multiple-choice and scale question of ``defn``.

    ``flt.version_id`` should be the version ``defn`` was loaded from (answers of other
    versions may mean something else); shares are of the respondents who answered.
    """
    with report_planner(bind):
        regions = RegionIndex.load(bind)
        data = load_question_frame(bind, flt, defn, regions)
        excluded = excluded_count(bind, flt, regions)
    designs = build_designs(bind, data, flt, regions)
    numbers = question_numbers(defn)
    methods: dict[str, str] = {}
    for q in data.questions:
        methods.update(question_outcomes(q, data.frame))
    overall = Overall.of(designs, methods, min_n=min_n, level=level)
    stats = [
        question_stat(q, numbers[q.key], data, designs, min_n=min_n, level=level, overall=overall)
        for q in data.questions
    ]
    return QuestionReport(
        questionnaire=defn.title,
        version=defn.version,
        version_id=flt.version_id or 0,
        responses=int(data.frame["n"].sum()) if not data.frame.empty else 0,
        excluded=excluded,
        include_flagged=flt.include_flagged,
        weighting=designs.info,
        questions=stats,
        period=(flt.date_from, flt.date_to),
        filter=plain(flt),
    )
