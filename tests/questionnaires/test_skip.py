"""Skip logic: visible_keys over chains and multiple choice."""

from __future__ import annotations

from questionnaires import load_text
from questionnaires import visible_keys
from tests.questionnaires.helpers import YESNO
from tests.questionnaires.helpers import doc
from tests.questionnaires.helpers import question

ABC = """options = [
    { value = "a", label = "A" },
    { value = "b", label = "B" },
    { value = "c", label = "C" },
]"""

DEFN = load_text(
    doc(
        question(f'key = "q1"\ntype = "single"\ntext = "一"\n{YESNO}')
        + question(
            'key = "q2"\ntype = "multiple"\ntext = "二"\n'
            f'show_if = {{ question = "q1", values = ["yes"] }}\n{ABC}'
        )
        + question(
            'key = "q3"\ntype = "single"\ntext = "三"\n'
            f'show_if = {{ question = "q2", values = ["b", "c"] }}\n{YESNO}'
        )
        + question(
            'key = "q4"\ntype = "text"\ntext = "四"\nshow_if = { question = "q3", values = ["no"] }'
        )
        + question('key = "q5"\ntype = "number"\ntext = "五"\nmin = 0\nmax = 99')
    )
)


def test_unconditional_questions_always_visible() -> None:
    assert visible_keys(DEFN, {}) == frozenset({"q1", "q5"})


def test_chain_opens_step_by_step() -> None:
    assert visible_keys(DEFN, {"q1": "yes"}) == {"q1", "q2", "q5"}
    assert visible_keys(DEFN, {"q1": "yes", "q2": ["a"]}) == {"q1", "q2", "q5"}
    assert visible_keys(DEFN, {"q1": "yes", "q2": ["a", "c"]}) == {"q1", "q2", "q3", "q5"}
    full = {"q1": "yes", "q2": ["c"], "q3": "no"}
    assert visible_keys(DEFN, full) == {"q1", "q2", "q3", "q4", "q5"}


def test_hiding_a_parent_hides_the_whole_chain() -> None:
    # stale answers further down do not keep q3/q4 visible once q1 says "no"
    answers = {"q1": "no", "q2": ["c"], "q3": "no", "q4": "旧答案"}
    assert visible_keys(DEFN, answers) == {"q1", "q5"}


def test_multiple_choice_parent_any_selected_value() -> None:
    assert "q3" in visible_keys(DEFN, {"q1": "yes", "q2": "b"})
    assert "q3" not in visible_keys(DEFN, {"q1": "yes", "q2": []})


def test_show_if_model() -> None:
    cond = DEFN.question("q3").show_if
    assert cond is not None
    assert cond.question == "q2"
    assert cond.values == frozenset({"b", "c"})
    assert cond.to_dict() == {"question": "q2", "values": ["b", "c"]}
