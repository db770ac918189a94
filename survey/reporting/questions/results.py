"""Result objects of question statistics and cross-tabulations (frozen, with ``to_dict()``).

Every percentage is an :class:`~survey.reporting.results.Estimate` (a share in [0, 1] with
its design-based interval, n and design effect, or 样本不足 in words), as on the dashboard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from survey.reporting.results import Estimate
from survey.reporting.results import WeightingInfo
from survey.reporting.results import _ToDict

TYPE_NAMES: dict[str, str] = {"single": "单选题", "multiple": "多选题", "scale": "量表题"}


@dataclass(frozen=True)
class OptionStat(_ToDict):
    """One option: respondents who chose it, and their share of those who answered,
    unweighted and (when the report is weighted) weighted, each with its interval."""

    value: str
    label: str
    substantive: bool
    count: int
    unweighted: Estimate
    weighted: Estimate | None = None


@dataclass(frozen=True)
class QuestionStat(_ToDict):
    """The answer distribution of one single-choice, multiple-choice or scale question.

    ``seen`` respondents were shown the question (skip logic), ``answered`` answered it;
    shares are of ``answered`` respondents, so a multiple-choice question's shares can add
    up to more than 100%. ``non_substantive`` is the share who chose 不了解/说不清 (None
    when the question has no such option); ``score`` the mean 0-100 score of a scale
    question over its substantive answers.
    """

    key: str
    number: int
    text: str
    type: str
    section: str
    seen: int
    answered: int
    options: list[OptionStat]
    non_substantive: Estimate | None = None
    non_substantive_weighted: Estimate | None = None
    score: Estimate | None = None
    score_weighted: Estimate | None = None
    condition: str = ""

    @property
    def type_name(self) -> str:
        """Chinese name of the question type."""
        return TYPE_NAMES.get(self.type, self.type)

    @property
    def total_share(self) -> float | None:
        """Sum of the unweighted option shares (above 1 for a multiple-choice question)."""
        values = [o.unweighted.estimate for o in self.options if o.unweighted.estimate is not None]
        return sum(values) if values else None


@dataclass(frozen=True)
class QuestionReport(_ToDict):
    """Statistics of every choice question of one questionnaire version for a filter."""

    questionnaire: str
    version: int
    version_id: int
    responses: int
    excluded: int
    include_flagged: bool
    weighting: WeightingInfo
    questions: list[QuestionStat]
    period: tuple[dt.date | None, dt.date | None] = (None, None)
    filter: dict[str, Any] = field(default_factory=dict)

    @property
    def weighted(self) -> bool:
        """Whether weighted shares are given (a weighting was asked for and applied)."""
        return self.weighting.applied != "none"


@dataclass(frozen=True)
class CrossRow(_ToDict):
    """One group of a cross-tabulation: respondents in it who answered, and the share
    choosing each option (row percentages), with intervals."""

    key: Any
    label: str
    answered: int
    cells: list[Estimate]


@dataclass(frozen=True)
class ChiSquareTest(_ToDict):
    """The Rao-Scott test of independence of the groups and the answer (for a
    multiple-choice question: of the groups and ticking one option)."""

    option: str
    statistic: float | None
    ndf: float | None
    ddf: float | None
    p_value: float | None
    mean_deff: float | None
    n: int
    significant: bool
    sentence: str


@dataclass(frozen=True)
class CrossTable(_ToDict):
    """A question by a grouping: row percentages with intervals, and the test."""

    question: QuestionStat
    by: str
    by_label: str
    options: list[tuple[str, str]]
    rows: list[CrossRow]
    total: CrossRow
    tests: list[ChiSquareTest]
    weighting: WeightingInfo
    responses: int


@dataclass(frozen=True)
class TextAnswer(_ToDict):
    """One free-text answer with where and when it was given."""

    response_id: int
    text: str
    region: str
    channel: str
    submitted_at: dt.datetime
    question: str = ""


@dataclass(frozen=True)
class TextPage(_ToDict):
    """A page of free-text answers matching a search."""

    question: str
    search: str
    page: int
    per_page: int
    total: int
    answers: list[TextAnswer]

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))
