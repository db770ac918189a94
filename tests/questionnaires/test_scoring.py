"""Scoring rules, worked out by hand on a small definition."""

from __future__ import annotations

import pytest

from questionnaires import Scores
from questionnaires import load_text
from questionnaires import score_answers
from tests.questionnaires.helpers import HEAD

TEXT = (
    HEAD
    + """
[[sections]]
key = "aware"
title = "知晓"

[[sections.questions]]
key = "a1"
type = "single"
text = "知道吗？"
metric = "awareness"
positive = ["yes"]
options = [
    { value = "yes", label = "知道" },
    { value = "no", label = "不知道" },
    { value = "skip", label = "不想回答", substantive = false },
]

[[sections.questions]]
key = "a2"
type = "multiple"
text = "知道哪些？"
metric = "awareness"
positive = ["x", "y"]
options = [
    { value = "x", label = "X" },
    { value = "y", label = "Y" },
    { value = "none", label = "都不知道" },
]

[[sections]]
key = "part"
title = "参与"

[[sections.questions]]
key = "p1"
type = "single"
text = "参加过吗？"
metric = "participation"
positive = ["yes"]
options = [{ value = "yes", label = "参加过" }, { value = "no", label = "没有" }]

[[sections.questions]]
key = "p2"
type = "single"
text = "经常吗？"
metric = "participation"
positive = ["weekly"]
show_if = { question = "p1", values = ["yes"] }
options = [{ value = "weekly", label = "每周" }, { value = "rarely", label = "很少" }]

[[sections]]
key = "sat"
title = "满意度"
scale = "sat4"

[[sections.questions]]
key = "s1"
type = "scale"
text = "环境满意吗？"
metric = "satisfaction"

[[sections.questions]]
key = "s2"
type = "scale"
text = "交通满意吗？"
metric = "satisfaction"
options = [
    { value = "satisfied", label = "满意", score = 100 },
    { value = "basic", label = "基本满意", score = 60 },
    { value = "dissatisfied", label = "不满意", score = 0 },
]

[[sections.questions]]
key = "s3"
type = "single"
text = "总体好吗？"
metric = "satisfaction"
positive = ["good"]
options = [{ value = "good", label = "好" }, { value = "bad", label = "不好" }]

[[sections.questions]]
key = "note"
type = "text"
required = false
text = "建议"
"""
)
DEFN = load_text(TEXT)


def test_nothing_answered_gives_none() -> None:
    scores = score_answers(DEFN, {})
    assert scores == Scores()
    assert scores.awareness is None and scores.satisfaction_score is None
    assert scores.awareness_n == scores.satisfaction_score_n == 0


def test_empty_values_count_as_unanswered() -> None:
    scores = score_answers(DEFN, {"a1": "", "a2": [], "p1": None, "s1": "  "})
    assert scores == Scores()


def test_awareness_mean_of_indicators() -> None:
    # a1 positive, a2 has one positive value among its selections -> (1 + 1) / 2
    assert score_answers(DEFN, {"a1": "yes", "a2": ["none", "x"]}).awareness == 1.0
    # a1 negative, a2 only "none" -> (0 + 0) / 2
    scores = score_answers(DEFN, {"a1": "no", "a2": ["none"]})
    assert (scores.awareness, scores.awareness_n) == (0.0, 2)
    # a1 positive, a2 negative -> 0.5
    assert score_answers(DEFN, {"a1": "yes", "a2": "none"}).awareness == 0.5


def test_non_substantive_answer_does_not_count() -> None:
    # a1 "skip" is non-substantive: only a2 counts -> 1 / 1
    scores = score_answers(DEFN, {"a1": "skip", "a2": ["y"]})
    assert (scores.awareness, scores.awareness_n) == (1.0, 1)
    # a1 alone, non-substantive -> nothing answered
    assert score_answers(DEFN, {"a1": "skip"}).awareness is None


def test_hidden_question_is_ignored_even_if_answered() -> None:
    # p2 is hidden when p1 == "no": its stale answer must not count -> 0 / 1
    scores = score_answers(DEFN, {"p1": "no", "p2": "weekly"})
    assert (scores.participation, scores.participation_n) == (0.0, 1)
    # visible when p1 == "yes" -> (1 + 0) / 2
    scores = score_answers(DEFN, {"p1": "yes", "p2": "rarely"})
    assert (scores.participation, scores.participation_n) == (0.5, 2)
    assert score_answers(DEFN, {"p1": "yes", "p2": "weekly"}).participation == 1.0


def test_satisfaction_top_two_box_and_score() -> None:
    # s1 比较满意 (80, top-two), s2 不满意 (0, not), s3 single "good" (positive, no score)
    scores = score_answers(DEFN, {"s1": "fairly", "s2": "dissatisfied", "s3": "good"})
    assert scores.satisfaction == pytest.approx(2 / 3)
    assert scores.satisfaction_n == 3
    assert scores.satisfaction_score == 40.0  # (80 + 0) / 2: only scale items have scores
    assert scores.satisfaction_score_n == 2


def test_inline_three_point_scale_top_two_default() -> None:
    # s2's inline scale has no 'positive': the two highest scores (满意, 基本满意) are positive
    assert DEFN.question("s2").positive == frozenset({"satisfied", "basic"})
    scores = score_answers(DEFN, {"s1": "unsure", "s2": "basic"})
    # s1 不了解 is non-substantive -> only s2 counts
    assert (scores.satisfaction, scores.satisfaction_n) == (1.0, 1)
    assert (scores.satisfaction_score, scores.satisfaction_score_n) == (60.0, 1)


def test_needs_improvement_is_not_satisfied() -> None:
    scores = score_answers(DEFN, {"s1": "improve"})
    assert (scores.satisfaction, scores.satisfaction_score) == (0.0, 40.0)


def test_unknown_values_and_multiple_values_on_single_are_unanswered() -> None:
    assert score_answers(DEFN, {"a1": "maybe"}).awareness is None
    assert score_answers(DEFN, {"a1": ["yes", "no"]}).awareness is None
    assert score_answers(DEFN, {"a1": ["yes"]}).awareness == 1.0
    # multiple choice: unknown values are dropped, the known one counts
    assert score_answers(DEFN, {"a2": ["zzz", "x"]}).awareness == 1.0


def test_non_metric_answers_do_not_count() -> None:
    assert score_answers(DEFN, {"note": "很好"}) == Scores()


def test_metrics_are_independent() -> None:
    answers = {"a1": "yes", "a2": ["none"], "p1": "no", "s1": "satisfied"}
    scores = score_answers(DEFN, answers)
    assert scores.as_dict() == {
        "awareness": 0.5,
        "participation": 0.0,
        "satisfaction": 1.0,
        "satisfaction_score": 100.0,
        "awareness_n": 2,
        "participation_n": 1,
        "satisfaction_n": 1,
        "satisfaction_score_n": 1,
    }
    assert scores.get("awareness") == 0.5
    assert scores.count("satisfaction_score") == 1
    with pytest.raises(KeyError):
        scores.get("happiness")
