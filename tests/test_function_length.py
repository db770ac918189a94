"""House rule: no function in ``survey/`` longer than 60 lines, not counting its docstring."""

from __future__ import annotations

import ast
from pathlib import Path

LIMIT = 60
SURVEY = Path(__file__).resolve().parent.parent / "survey"


def long_functions(source: str, name: str = "<text>") -> list[str]:
    """``name:line function (length)`` of every function over :data:`LIMIT` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        first = node.body[0]
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            length -= (first.end_lineno or first.lineno) - first.lineno + 1
        if length > LIMIT:
            found.append(f"{name}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_in_survey_is_over_the_limit() -> None:
    found = [
        hit
        for path in sorted(SURVEY.rglob("*.py"))
        for hit in long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(SURVEY)))
    ]
    assert not found, found


def test_the_checker_counts_the_code_not_the_docstring() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT - 1))
    doc = '    """' + "\n" * 20 + '    """\n'
    assert long_functions(f"def f():\n{doc}{body}\n") == []  # def + 59 lines: 60
    assert long_functions(f"def f():\n{doc}{body}\n    return 1\n") == ["<text>:1 f (61 lines)"]
