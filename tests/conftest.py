"""Shared fixtures: an app per test on SQLite and (when configured) PostgreSQL.

Database tests run once per backend. SQLite: a template database is migrated once per
session and copied for every test. PostgreSQL (``SURVEY_TEST_POSTGRES_URL``): migrated once per
session, every table truncated after each test. In CI a missing PostgreSQL URL or a missing
browser is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

POSTGRES_URL = os.environ.get("SURVEY_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SECRET = "test-secret-key-0123456789abcdef"

BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError(
            "CI=true but SURVEY_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL"
        )


def _config(url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "BASE_URL": "http://survey.test",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    cfg.update(extra)
    return cfg


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    from survey import create_app
    from survey.migrate import upgrade

    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    app = create_app(_config(f"sqlite:///{path}", folder))
    upgrade(app)
    with app.app_context():
        from survey.extensions import db

        db.engine.dispose()
    # Fold the WAL into the main file so a plain copy is complete.
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


@pytest.fixture(scope="session")
def postgres_migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The PostgreSQL test database, emptied and migrated once per session."""
    if not POSTGRES_URL:
        pytest.skip("SURVEY_TEST_POSTGRES_URL not set (PostgreSQL tests run in CI)")
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from survey import create_app
    from survey.config import normalise_database_url
    from survey.migrate import upgrade

    engine = create_engine(normalise_database_url(POSTGRES_URL))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    folder = tmp_path_factory.mktemp("pg")
    app = create_app(_config(POSTGRES_URL, folder))
    upgrade(app)
    with app.app_context():
        from survey.extensions import db

        db.engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on each configured backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "survey.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_migrated")
    yield url
    _truncate_postgres(url)


def _truncate_postgres(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from survey.config import normalise_database_url
    from survey.models import Base

    engine = create_engine(normalise_database_url(url))
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The test configuration; override keys in a test module by redefining this fixture."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return _config(database_url, instance)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The application bound to a fresh database."""
    from survey import create_app
    from survey.extensions import db

    application = create_app(app_config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """Channels, the bundled questionnaire and the demo city with its collection points."""
    from questionnaires import bundled_paths
    from questionnaires import load_file
    from survey import demo
    from survey.extensions import db
    from survey.services.channels import seed_default_channels
    from survey.services.questionnaires import load_definition

    with app.app_context():
        seed_default_channels()
        for path in bundled_paths():
            load_definition(load_file(path), path.read_text(encoding="utf-8"))
        demo.ensure_demo_city()
        db.session.commit()
    return app


def chromium_path() -> str | None:
    """Debian's chromium, or None (browser tests then skip locally and fail in CI)."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium; browser tests need it."""
    path = chromium_path()
    if path is None:
        if IN_CI:
            pytest.fail("chromium is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    return path


ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

# Debian's chromium as root, with no background traffic on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug on a free loopback port in a thread; yield its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
