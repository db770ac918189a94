"""Skip logic: which questions a respondent sees, given the answers so far."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from questionnaires._model import Definition

#: One answer as a web form or the database hands it over: a single value, a list of values
#: (multiple choice), or ``None``/``""``/``[]`` for no answer.
Answer = str | Sequence[str] | None


def selected_values(answer: Answer) -> tuple[str, ...]:
    """Normalise an answer to the tuple of non-empty values it holds (order kept, no repeats)."""
    if answer is None:
        return ()
    items: Sequence[str] = (answer,) if isinstance(answer, str) else answer
    seen: list[str] = []
    for item in items:
        if isinstance(item, str):
            value = item.strip()
            if value and value not in seen:
                seen.append(value)
    return tuple(seen)


def visible_keys(defn: Definition, answers: Mapping[str, Answer]) -> frozenset[str]:
    """Keys of the questions shown to a respondent who gave ``answers``.

    A question without ``show_if`` is always visible. A question with ``show_if`` is visible
    when the question it refers to is visible *and* its answer holds one of the accepted values
    (for multiple choice: any selected value). Because ``show_if`` may only refer to earlier
    questions, one pass in order resolves chains: hiding a question hides everything that
    depends on it, whatever stale answers the mapping still holds for it.
    """
    visible: set[str] = set()
    for q in defn.questions:
        cond = q.show_if
        if cond is None or (
            cond.question in visible
            and cond.values.intersection(selected_values(answers.get(cond.question)))
        ):
            visible.add(q.key)
    return frozenset(visible)
