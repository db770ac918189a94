"""Per-respondent 两率一度 scores, computed when a response is stored.

The rule (also stated in the header of every bundled TOML file):

* An item feeds a metric when its ``metric`` is set. Only items that are **visible** (see
  :func:`questionnaires.visible_keys`) and **answered** count.
* An item is *answered* when its answer holds at least one declared, **substantive** option
  value. Non-substantive options (``substantive = false``, e.g. 不了解/说不清), unknown values
  and empty answers count as not answered; they are neither positive nor negative. A single or
  scale item given several values is not answered.
* The item indicator is 1 when the answer is in the item's ``positive`` set (multiple choice:
  when *any* selected substantive value is positive), else 0.
* A respondent's ``awareness``, ``participation`` and ``satisfaction`` value is the mean of the
  indicators of that metric's answered items (for satisfaction the positive set is the
  top-two box, so the value is the respondent's top-two-box share).
* ``satisfaction_score`` (0-100) is the mean of the scores of the answered *scale* items of
  the satisfaction metric.
* A value is ``None`` when no item of its metric was answered; the ``*_n`` fields count the
  answered items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from questionnaires._model import Definition
from questionnaires._model import Question
from questionnaires._skip import Answer
from questionnaires._skip import selected_values
from questionnaires._skip import visible_keys


@dataclass(frozen=True)
class Scores:
    """One respondent's metric values (each a float in [0, 1], or 0-100 for
    ``satisfaction_score``, or ``None`` when nothing of that metric was answered) and the number
    of items each value was averaged over."""

    awareness: float | None = None
    participation: float | None = None
    satisfaction: float | None = None
    satisfaction_score: float | None = None
    awareness_n: int = 0
    participation_n: int = 0
    satisfaction_n: int = 0
    satisfaction_score_n: int = 0

    def get(self, metric: str) -> float | None:
        """Value of a metric by name (``awareness``, ..., ``satisfaction_score``)."""
        if metric not in ("awareness", "participation", "satisfaction", "satisfaction_score"):
            raise KeyError(metric)
        value: float | None = getattr(self, metric)
        return value

    def count(self, metric: str) -> int:
        """Number of answered items behind a metric value."""
        self.get(metric)
        n: int = getattr(self, f"{metric}_n")
        return n

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of all fields."""
        return {
            "awareness": self.awareness,
            "participation": self.participation,
            "satisfaction": self.satisfaction,
            "satisfaction_score": self.satisfaction_score,
            "awareness_n": self.awareness_n,
            "participation_n": self.participation_n,
            "satisfaction_n": self.satisfaction_n,
            "satisfaction_score_n": self.satisfaction_score_n,
        }


def _substantive_values(q: Question, answer: Answer) -> tuple[str, ...]:
    """The declared substantive values of an answer; empty means "not answered"."""
    chosen = selected_values(answer)
    if q.type != "multiple" and len(chosen) > 1:
        return ()
    result = []
    for value in chosen:
        opt = q.option(value)
        if opt is not None and opt.substantive:
            result.append(value)
    return tuple(result)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score_answers(defn: Definition, answers: Mapping[str, Answer]) -> Scores:
    """Score one respondent's ``answers`` (question key -> value(s)) under ``defn``.

    See the module docstring for the rule. Answers to questions that are hidden by skip logic
    are ignored even when present.
    """
    visible = visible_keys(defn, answers)
    indicators: dict[str, list[float]] = {
        m: [] for m in ("awareness", "participation", "satisfaction")
    }
    sat_scores: list[float] = []
    for q in defn.questions:
        if q.metric is None or q.key not in visible:
            continue
        values = _substantive_values(q, answers.get(q.key))
        if not values:
            continue
        indicators[q.metric].append(1.0 if q.positive.intersection(values) else 0.0)
        if q.metric == "satisfaction" and q.type == "scale":
            opt = q.option(values[0])
            if opt is not None and opt.score is not None:
                sat_scores.append(opt.score)
    return Scores(
        awareness=_mean(indicators["awareness"]),
        participation=_mean(indicators["participation"]),
        satisfaction=_mean(indicators["satisfaction"]),
        satisfaction_score=_mean(sat_scores),
        awareness_n=len(indicators["awareness"]),
        participation_n=len(indicators["participation"]),
        satisfaction_n=len(indicators["satisfaction"]),
        satisfaction_score_n=len(sat_scores),
    )
