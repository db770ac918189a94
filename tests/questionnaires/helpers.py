"""Builders for small inline definitions used by the questionnaire tests."""

from __future__ import annotations

from questionnaires import DefinitionError
from questionnaires import Problem
from questionnaires import load_text

HEAD = """\
key = "test-q"
version = 1
title = "测试问卷"
thank_you = "谢谢"

[scales.sat4]
options = [
    { value = "satisfied", label = "满意", score = 100 },
    { value = "fairly", label = "比较满意", score = 80 },
    { value = "improve", label = "有待加强", score = 40 },
    { value = "bad", label = "很不满意", score = 0 },
    { value = "unsure", label = "不了解", substantive = false },
]
"""

YESNO = """options = [{ value = "yes", label = "是" }, { value = "no", label = "否" }]"""


def doc(questions: str, head: str = HEAD, section: str = 'key = "s1"\ntitle = "第一部分"') -> str:
    """A definition with one section holding ``questions`` (TOML question tables)."""
    return f"{head}\n[[sections]]\n{section}\n\n{questions}"


def question(body: str) -> str:
    """One ``[[sections.questions]]`` table."""
    return f"[[sections.questions]]\n{body}\n"


def problems(text: str) -> list[Problem]:
    """Problems reported for ``text`` (empty list if it loads)."""
    try:
        load_text(text, "test.toml")
    except DefinitionError as exc:
        return exc.problems
    return []


def assert_problem(text: str, key: str, fragment: str) -> None:
    """Assert loading fails with a problem on ``key`` whose message contains ``fragment``."""
    found = problems(text)
    assert found, "definition unexpectedly loaded"
    matches = [p for p in found if p.key == key and fragment in p.message]
    assert matches, f"no problem ({key!r}, {fragment!r}) in:\n" + "\n".join(map(str, found))
    for p in matches:
        assert p.file == "test.toml"
        assert str(p).startswith(f"test.toml: {key}: " if key else "test.toml: ")
