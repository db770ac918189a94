"""House rules: no function in ``survey/``, ``analysis/`` or ``questionnaires/`` longer than 60
lines, not counting its docstring; no module longer than 1,000 lines (small modules named for
what they do)."""

from __future__ import annotations

import ast
from pathlib import Path

LIMIT = 60
#: Lines per module (the largest today: ``survey/services/integrity/sweep.py``, 906).
FILE_LIMIT = 1000
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = tuple(ROOT / name for name in ("survey", "analysis", "questionnaires"))


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


def _modules() -> list[Path]:
    return [path for package in PACKAGES for path in sorted(package.rglob("*.py"))]


def test_no_function_is_over_the_limit() -> None:
    found = [
        hit
        for path in _modules()
        for hit in long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, found


def long_files(paths: list[Path], limit: int = FILE_LIMIT) -> list[str]:
    """``path (lines)`` of every file over ``limit`` lines."""
    found = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > limit:
            found.append(f"{path.name} ({lines} lines)")
    return found


def test_no_module_is_over_the_file_limit() -> None:
    assert long_files(_modules()) == []


def test_the_checkers_cover_every_package_and_catch_a_long_file(tmp_path: Path) -> None:
    covered = {p.relative_to(ROOT).parts[0] for p in _modules()}
    assert covered == {"survey", "analysis", "questionnaires"}
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * (FILE_LIMIT + 1), encoding="utf-8")
    assert long_files([big]) == [f"big.py ({FILE_LIMIT + 1} lines)"]


def test_the_checker_counts_the_code_not_the_docstring() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT - 1))
    doc = '    """' + "\n" * 20 + '    """\n'
    assert long_functions(f"def f():\n{doc}{body}\n") == []  # def + 59 lines: 60
    assert long_functions(f"def f():\n{doc}{body}\n    return 1\n") == ["<text>:1 f (61 lines)"]
