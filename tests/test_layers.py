"""The dependency rules of DESIGN.md, checked on the real import graph (grimp, the engine of
import-linter). A violation fails with the importing module, the imported one and the line.

- ``analysis`` and ``questionnaires`` are pure: no ``survey``, Flask, SQLAlchemy or database.
- Only ``survey.reporting`` imports ``analysis``.
- The web layer (``survey.web``) holds no SQL: it never imports SQLAlchemy or the database
  extension; it goes through ``survey.services`` and ``survey.reporting``.
- Dependencies point one way: models, services and reporting never import the web layer or
  the command line; models import no services.
- Between services and reporting, too, one way: reporting uses services (access rules, audit,
  CSV cells, questionnaire definitions); services never import reporting. No module name
  (the last part of a dotted name) lives in both packages.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

GRAPH = grimp.build_graph("survey", "analysis", "questionnaires", include_external_packages=True)


def _modules(package: str, graph: grimp.ImportGraph = GRAPH) -> set[str]:
    return {package} | graph.find_descendants(package) if package in graph.modules else set()


def _under(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(
    sources: Iterable[str], forbidden: Iterable[str], graph: grimp.ImportGraph = GRAPH
) -> list[str]:
    """Direct imports from any module under ``sources`` of anything under ``forbidden``."""
    found = []
    forbidden = tuple(forbidden)
    for package in sources:
        for module in sorted(_modules(package, graph)):
            for imported in graph.find_modules_directly_imported_by(module):
                if _under(imported, forbidden):
                    for detail in graph.get_import_details(importer=module, imported=imported):
                        found.append(f"{module}:{detail['line_number']} imports {imported}")
    return found


def shared_names(first: str, second: str, graph: grimp.ImportGraph = GRAPH) -> list[str]:
    """Module names (last dotted part) found under both packages, with where they are."""

    def names(package: str) -> dict[str, str]:
        return {m.rpartition(".")[2]: m for m in _modules(package, graph) if m != package}

    a, b = names(first), names(second)
    return [f"{a[n]} and {b[n]}" for n in sorted(a.keys() & b.keys())]


RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "analysis is pure",
        ("analysis",),
        ("survey", "questionnaires", "flask", "sqlalchemy", "psycopg"),
    ),
    (
        "questionnaires are pure",
        ("questionnaires",),
        ("survey", "analysis", "flask", "sqlalchemy", "psycopg"),
    ),
    ("views hold no SQL", ("survey.web",), ("sqlalchemy", "survey.extensions", "survey.database")),
    (
        "one-way dependencies",
        ("survey.models", "survey.services", "survey.reporting"),
        ("survey.web", "survey.cli"),
    ),
    ("models know no services", ("survey.models",), ("survey.services", "survey.reporting")),
    ("services never import reporting", ("survey.services",), ("survey.reporting",)),
]


@pytest.mark.parametrize(("name", "sources", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_rule(name: str, sources: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    assert violations(sources, forbidden) == [], name


def test_only_reporting_imports_analysis() -> None:
    others = {
        m for m in _modules("survey") if not _under(m, ("survey.reporting",)) and m != "survey"
    }
    assert violations(sorted(others), ("analysis",)) == []


def test_the_checker_sees_a_violation() -> None:
    """The rules would catch a real import: the web layer does import services and flask."""
    assert violations(("survey.web.public",), ("survey.services",))
    assert violations(("survey.web",), ("flask",))
    assert not violations(("survey.web",), ("survey.nonexistent",))


def test_no_module_name_in_both_services_and_reporting() -> None:
    assert shared_names("survey.services", "survey.reporting") == []


def _fake_app(root: Path) -> grimp.ImportGraph:
    """A tiny package ``fakeapp`` whose services import reporting, and share a module name."""
    files = {
        "__init__.py": "",
        "services/__init__.py": "",
        "services/regions.py": "from fakeapp.reporting.tables import TABLE\n",
        "reporting/__init__.py": "",
        "reporting/tables.py": "from fakeapp.services import regions\nTABLE = 1\n",
        "reporting/regions.py": "",
    }
    for name, text in files.items():
        path = root / "fakeapp" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return grimp.build_graph("fakeapp", cache_dir=None)


def test_the_checker_catches_services_importing_reporting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = _fake_app(tmp_path)
    assert violations(("fakeapp.services",), ("fakeapp.reporting",), graph) == [
        "fakeapp.services.regions:1 imports fakeapp.reporting.tables"
    ]
    # The allowed direction is not reported.
    assert violations(("fakeapp.reporting",), ("fakeapp.web",), graph) == []
    assert shared_names("fakeapp.services", "fakeapp.reporting", graph) == [
        "fakeapp.services.regions and fakeapp.reporting.regions"
    ]


def _calls_and_imports(path: Path) -> tuple[set[str], set[str]]:
    """Attribute calls (``x.rollback()`` -> ``rollback``) and names imported from flask."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    flask_names = {
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "flask"
        for a in n.names
    }
    return calls, flask_names


SERVICES = Path(__file__).resolve().parent.parent / "survey" / "services"
#: The unit of work itself, and the integrity sweep's background worker (its own session).
#: (``field_sync.py`` undoes a lost race with a savepoint, not the caller's transaction.)
MAY_ROLL_BACK = {"transaction.py", "integrity/sweep.py"}
WEB_OBJECTS = {"request", "Request", "Response", "make_response", "session", "g"}


def test_services_hold_no_web_concerns() -> None:
    """Services take no Flask request or response (cookies are the web layer's) and never
    roll back (the request or command does, through ``transaction``)."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        name = str(path.relative_to(SERVICES))
        calls, flask_names = _calls_and_imports(path)
        if "rollback" in calls and name not in MAY_ROLL_BACK:
            found.append(f"{name} calls rollback()")
        found += [f"{name} imports flask.{n}" for n in sorted(flask_names & WEB_OBJECTS)]
    assert found == []


def test_the_web_concern_checker_sees_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import request\n\ndef f(s):\n    s.rollback()\n", encoding="utf-8")
    calls, flask_names = _calls_and_imports(bad)
    assert "rollback" in calls and flask_names == {"request"}
