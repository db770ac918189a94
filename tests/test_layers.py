"""The dependency rules of DESIGN.md, checked on the real import graph (grimp, the engine of
import-linter). A violation fails with the importing module, the imported one and the line.

- ``analysis`` and ``questionnaires`` are pure: no ``survey``, Flask, SQLAlchemy or database.
- Only ``survey.reporting`` imports ``analysis``.
- The web layer (``survey.web``) holds no SQL: it never imports SQLAlchemy or the database
  extension; it goes through ``survey.services`` and ``survey.reporting``.
- Dependencies point one way: models, services and reporting never import the web layer or
  the command line; models import no services.
"""

from __future__ import annotations

from collections.abc import Iterable

import grimp
import pytest

GRAPH = grimp.build_graph("survey", "analysis", "questionnaires", include_external_packages=True)


def _modules(package: str) -> set[str]:
    return {package} | GRAPH.find_descendants(package) if package in GRAPH.modules else set()


def _under(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(sources: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    """Direct imports from any module under ``sources`` of anything under ``forbidden``."""
    found = []
    forbidden = tuple(forbidden)
    for package in sources:
        for module in sorted(_modules(package)):
            for imported in GRAPH.find_modules_directly_imported_by(module):
                if _under(imported, forbidden):
                    for detail in GRAPH.get_import_details(importer=module, imported=imported):
                        found.append(f"{module}:{detail['line_number']} imports {imported}")
    return found


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
