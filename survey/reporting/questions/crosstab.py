"""Cross-tabulation (交叉分析): a choice question by district, street, channel, week, age
group, sex or another single-choice question, with row percentages and their intervals,
and the Rao-Scott test of independence (``analysis.svy_chisq``) in a plain-Chinese sentence.

Row percentages are domain estimates (the group's respondents who answered) in the
report's design, weighted as the filter asks. The test needs each design row to hold one
answer, so the aggregated rows are split by answer (multiple choice: by ticked / not
ticked, one test per option) and weighted again; calibration depends only on the cells,
so the weights are the same.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from analysis import SurveyDesign
from analysis import svy_chisq
from questionnaires import Definition
from questionnaires import Question
from survey.errors import InvalidInput
from survey.reporting.channel_rows import channel_names
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import ReportFilter
from survey.reporting.planner import report_planner
from survey.reporting.questions.frame import QuestionFrame
from survey.reporting.questions.frame import answered_column
from survey.reporting.questions.frame import load_question_frame
from survey.reporting.questions.frame import option_column
from survey.reporting.questions.results import ChiSquareTest
from survey.reporting.questions.results import CrossRow
from survey.reporting.questions.results import CrossTable
from survey.reporting.questions.stats import Designs
from survey.reporting.questions.stats import build_designs
from survey.reporting.questions.stats import estimates_many
from survey.reporting.questions.stats import question_numbers
from survey.reporting.questions.stats import question_stat
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import Estimate
from survey.reporting.statement import STAT_COLUMNS

#: Groupings of a cross-tabulation besides ``question:KEY`` (another single-choice question).
CROSS_BY: Final[dict[str, str]] = {
    "district": "区县",
    "street": "街道/镇",
    "channel": "渠道",
    "week": "周",
    "age_group": "年龄段",
    "sex": "性别",
}
SIGNIFICANCE: Final = 0.05


def check_by(defn: Definition, question: Question, by: str) -> str:
    """The Chinese name of grouping ``by``; ``InvalidInput`` when it cannot be used."""
    if question.type not in ("single", "multiple", "scale") or not question.options:
        raise InvalidInput("只能对单选题、多选题或量表题做交叉分析。")
    if by in CROSS_BY:
        return CROSS_BY[by]
    if by.startswith("question:"):
        key = by.split(":", 1)[1]
        if key not in defn or key == question.key:
            raise InvalidInput("交叉的题目不存在，或与所分析的题目相同。")
        other = defn.question(key)
        if other.type not in ("single", "scale") or not other.options:
            raise InvalidInput("只能按单选题或量表题分组。")
        return f"“{other.text}”的回答"
    raise InvalidInput(f"未知的分组：{by}（可选：{'、'.join(CROSS_BY)} 或另一道单选题）")


def group_column(frame: pd.DataFrame, by: str, regions: RegionIndex) -> pd.Series:
    """The group of every design row (NaN: outside every group)."""
    if by == "district":
        return frame["stratum"].where(frame["stratum"] != 0)
    if by == "street":
        mapping = {int(r): regions.group_of(int(r), "street") for r in frame["region_id"].unique()}
        return frame["region_id"].map(mapping)
    if by in ("age_group", "sex"):
        return frame[by]
    return frame["by"]


def group_labels(
    bind: Session | Connection,
    defn: Definition,
    by: str,
    keys: list[Hashable],
    regions: RegionIndex,
) -> dict[Hashable, str]:
    """Chinese label of every group key."""
    if by == "district":
        return {k: regions.group_label(int(k), "district") for k in keys}  # type: ignore[arg-type]
    if by == "street":
        return {k: regions.group_label(int(k), "street") for k in keys}  # type: ignore[arg-type]
    if by == "channel":
        names = channel_names(bind)
        return {k: names.get(int(k), ("", f"渠道 {k}"))[1] for k in keys}  # type: ignore[arg-type]
    if by == "week":
        return {k: f"{k} 当周" for k in keys}
    source = None
    if by in ("age_group", "sex"):
        source = defn.demographic_keys().get(by)
    elif by.startswith("question:"):
        source = by.split(":", 1)[1]
    labels = {}
    if source is not None and source in defn:
        labels = {o.value: o.label for o in defn.question(source).options}
    fallback = {"male": "男", "female": "女"}
    return {k: labels.get(str(k), fallback.get(str(k), str(k))) for k in keys}


def _sorted_keys(
    by: str, keys: list[Hashable], regions: RegionIndex, defn: Definition
) -> list[Hashable]:
    if by in ("district", "street"):
        return sorted(keys, key=lambda k: (regions.code_of(int(k)), int(k)))  # type: ignore[arg-type]
    order: dict[str, int] = {}
    source = defn.demographic_keys().get(by) if by in ("age_group", "sex") else None
    if by.startswith("question:"):
        source = by.split(":", 1)[1]
    if source is not None and source in defn:
        order = {o.value: i for i, o in enumerate(defn.question(source).options)}
    return sorted(keys, key=lambda k: (order.get(str(k), len(order)), str(k)))


def split_by_answer(data: QuestionFrame, question: Question, option: str | None) -> pd.DataFrame:
    """Design rows split so that each holds one answer in column ``answer`` (NaN for no
    answer): the option chosen, or for ``option`` whether it was ticked (1/0)."""
    frame = data.frame
    n = frame["n"].to_numpy(dtype=np.float64)
    answered = frame[answered_column(question.key)].to_numpy(dtype=np.float64)
    parts: list[tuple[object, np.ndarray]] = []
    if option is None:
        for o in question.options:
            parts.append((o.value, frame[option_column(question.key, o.value)].to_numpy()))
    else:
        ticked = frame[option_column(question.key, option)].to_numpy(dtype=np.float64)
        parts += [(1, ticked), (0, answered - ticked)]
    parts.append((None, n - answered))
    pieces = []
    base = frame.drop(columns=[c for c in frame.columns if "|" in c])
    for value, counts in parts:
        keep = counts > 0
        piece = base[keep].copy()
        piece["n"] = counts[keep].astype(np.int64)
        piece["answer"] = value
        pieces.append(piece)
    out = pd.concat(pieces, ignore_index=True)
    for column in STAT_COLUMNS:  # the metrics play no part here; zero keeps them valid
        out[column] = 0
    return out


def p_text(p: float) -> str:
    """A p-value as people read it."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def sentence(p: float | None, by_label: str, subject: str, note: str = "") -> tuple[bool, str]:
    """Whether the difference is significant at 5%, and a sentence saying what it means."""
    if p is None:
        return False, f"无法检验{subject}在不同{by_label}之间是否有差别：{note or '数据不足'}。"
    if p < SIGNIFICANCE:
        return True, (
            f"不同{by_label}之间，{subject}差异显著（Rao–Scott 校正卡方检验，{p_text(p)}）："
            "这样大的差异很难仅用抽样误差解释。"
        )
    return False, (
        f"不同{by_label}之间，{subject}差异不显著（Rao–Scott 校正卡方检验，{p_text(p)}）："
        f"现有样本不足以说明各{by_label}之间确有差别。"
    )


NOTES_ZH: Final[dict[str, str]] = {
    "not testable: fewer than two levels in a variable": "只有一个分组或只有一种回答",
    "not testable: design df is 0": "点位太少，无法估计抽样误差",
    "not testable: singular table (a row or column is empty)": "有分组或选项无人作答",
    "not testable: no variation in the table": "回答没有差别",
}


def independence_test(
    bind: Session | Connection,
    data: QuestionFrame,
    question: Question,
    option: tuple[str, str] | None,
    flt: ReportFilter,
    regions: RegionIndex,
    by: str,
    by_label: str,
) -> ChiSquareTest:
    """The Rao-Scott test of the groups against the answer (or one option ticked)."""
    long = split_by_answer(data, question, option[0] if option else None)
    long["group"] = group_column(long, by, regions)
    design: SurveyDesign | None = None
    if not long.empty:
        design = build_designs(bind, QuestionFrame(long, {}, (question,), 0), flt, regions).applied
    subject = f"选择“{option[1]}”的比例" if option else f"“{question.text}”的回答分布"
    if design is None:
        significant, text = sentence(None, by_label, subject, "无有效答卷")
        return ChiSquareTest(
            option[0] if option else "", None, None, None, None, None, 0, False, text
        )
    result = svy_chisq(design, "group", "answer")
    p = None if np.isnan(result.p_value) else float(result.p_value)
    significant, text = sentence(p, by_label, subject, NOTES_ZH.get(result.note, result.note))
    return ChiSquareTest(
        option=option[0] if option else "",
        statistic=None if p is None else float(result.statistic),
        ndf=None if p is None else float(result.ndf),
        ddf=None if p is None else float(result.ddf),
        p_value=p,
        mean_deff=None if p is None else float(result.mean_deff),
        n=result.n,
        significant=significant,
        sentence=text,
    )


def crosstab(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    question_key: str,
    by: str,
    *,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
) -> CrossTable:
    """Question ``question_key`` of ``defn`` by ``by``: row percentages with intervals in
    the report's weighting, the overall row, and the test(s) of independence."""
    if question_key not in defn:
        raise InvalidInput("题目不存在。")
    question = defn.question(question_key)
    by_label = check_by(defn, question, by)
    with report_planner(bind):
        regions = RegionIndex.load(bind)
        data = load_question_frame(bind, flt, defn, regions, by=by, questions=[question])
    data.frame["group"] = group_column(data.frame, by, regions)
    designs = build_designs(bind, data, flt, regions)
    rows, total = _rows(bind, defn, data, designs, question, by, regions, min_n, level)
    options = [(o.value, o.label) for o in question.options]
    if question.type == "multiple":
        tests = [
            independence_test(bind, data, question, o, flt, regions, by, by_label) for o in options
        ]
    else:
        tests = [independence_test(bind, data, question, None, flt, regions, by, by_label)]
    stat = question_stat(
        question, question_numbers(defn)[question.key], data, designs, min_n=min_n, level=level
    )
    return CrossTable(
        question=stat,
        by=by,
        by_label=by_label,
        options=options,
        rows=rows,
        total=total,
        tests=tests,
        weighting=designs.info,
        responses=int(data.frame["n"].sum()) if not data.frame.empty else 0,
    )


def _rows(
    bind: Session | Connection,
    defn: Definition,
    data: QuestionFrame,
    designs: Designs,
    question: Question,
    by: str,
    regions: RegionIndex,
    min_n: int,
    level: float,
) -> tuple[list[CrossRow], CrossRow]:
    design = designs.applied
    columns = [option_column(question.key, o.value) for o in question.options]

    def cells(group: str | None) -> list[dict[Hashable, Estimate]]:
        methods = dict.fromkeys(columns, "logit")
        found = estimates_many(design, methods, group, min_n=min_n, level=level)
        return [found.get(c, {}) for c in columns]

    by_group = cells("group")
    frame = data.frame
    answered = (
        frame.groupby("group")[answered_column(question.key)].sum() if not frame.empty else {}
    )
    keys = _sorted_keys(
        by, sorted({k for found in by_group for k in found}, key=str), regions, defn
    )
    labels = group_labels(bind, defn, by, keys, regions)
    rows = [
        CrossRow(
            key=k,
            label=labels[k],
            answered=int(answered.get(k, 0)) if len(answered) else 0,
            cells=[
                found.get(k) or Estimate.empty(c)
                for found, c in zip(by_group, columns, strict=True)
            ],
        )
        for k in keys
    ]
    overall = cells(None)
    total_answered = int(frame[answered_column(question.key)].sum()) if not frame.empty else 0
    total = CrossRow(
        None,
        "合计",
        total_answered,
        [found.get(None) or Estimate.empty(c) for found, c in zip(overall, columns, strict=True)],
    )
    return rows, total
