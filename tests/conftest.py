"""Shared fixtures: an app per test on SQLite and (when configured) PostgreSQL.

Database tests run once per backend. SQLite: a template database is migrated once per
session and copied for every test. PostgreSQL (``SURVEY_TEST_POSTGRES_URL``): migrated once per
session and truncated after each test (in the background). The seeded states
(``seeded``, and ``staff`` in tests/survey/admin) are likewise built once per session and
backend and put into each test's fresh database (see ``DatabaseStates``). In CI a missing
PostgreSQL URL or a missing browser is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner
from hypothesis import settings

POSTGRES_URL = os.environ.get("SURVEY_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SECRET = "test-secret-key-0123456789abcdef"

BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]

# Hypothesis explores new examples on every local run; in CI each property test replays the
# same examples (derandomize), so a CI verdict depends on the commit, not on the draw. A bug
# found locally is kept by the example database; CI keeps none (it starts from a clean clone).
settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    settings.load_profile("ci")


#: What the tests hash staff passwords with (see :func:`_cheap_password_hashes`).
TEST_HASH_METHOD = "pbkdf2:sha256:1"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Staff sign in hundreds of times across the suite, and scrypt (werkzeug's default,
    what the app hashes with) costs 50-180 ms a hash here: tests hash with a single round
    of PBKDF2 instead. ``test_passwords_are_hashed_with_scrypt`` checks the real method;
    every stored hash names its method, so verification follows either way."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import survey.bootstrap
    import survey.services.users

    cheap = partial(generate_password_hash, method=TEST_HASH_METHOD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(survey.services.users, "generate_password_hash", cheap)
        patch.setattr(survey.bootstrap, "generate_password_hash", cheap)
        patch.setattr(survey.services.users, "_DUMMY_HASH", cheap("not-a-real-password"))
        yield


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


def _fold_wal(path: Path) -> None:
    """Fold the WAL into the main file so that a plain copy of it is complete."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


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
    _fold_wal(path)
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


class PostgresDatabase:
    """The migrated PostgreSQL test database, emptied after each test.

    ``TRUNCATE ... RESTART IDENTITY`` gives every test brand-new, empty tables (the planner
    sees them as never analysed, exactly as after the migration), but it costs a few hundred
    milliseconds of server time. It therefore runs in a thread while the next test (usually
    the same test on SQLite) goes on; the next PostgreSQL test waits for it to finish.
    """

    def __init__(self, url: str, engine: Any) -> None:
        from survey.models import Base

        self.url = url
        self.engine = engine
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        self._sql = f"TRUNCATE {names} RESTART IDENTITY CASCADE"
        self._pending: threading.Thread | None = None
        self._error: BaseException | None = None

    def _empty(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self._sql)
        except BaseException as exc:  # re-raised by wait()
            self._error = exc

    def empty_soon(self) -> None:
        """Start emptying the database; ``wait`` before using it again."""
        self.wait()
        self._pending = threading.Thread(target=self._empty, name="empty-postgres")
        self._pending.start()

    def wait(self) -> None:
        """Block until the database is empty again (raise if emptying it failed)."""
        if self._pending is not None:
            self._pending.join()
            self._pending = None
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError("emptying the PostgreSQL test database failed") from error


@pytest.fixture(scope="session")
def postgres_database(postgres_migrated: str) -> Iterator[PostgresDatabase]:
    """The PostgreSQL test database and the engine that empties it after each test."""
    from sqlalchemy import create_engine

    from survey.config import normalise_database_url

    database = PostgresDatabase(
        postgres_migrated, create_engine(normalise_database_url(postgres_migrated))
    )
    yield database
    database.wait()
    database.engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on each configured backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "survey.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.wait()
    yield database.url
    database.empty_soon()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The test configuration; override keys in a test module by redefining this fixture."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return _config(database_url, instance)


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache in a dict: each template is compiled once per session.

    Buckets are keyed by template name and checked against the source's checksum, so a test
    app renders exactly what compiling the template afresh would give; only the repeated
    compilation (a fifth of the resident-page tests' time) is saved.
    """

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._data.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._data[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session")
def jinja_bytecode_cache() -> MemoryBytecodeCache:
    return MemoryBytecodeCache()


@pytest.fixture
def app(app_config: dict[str, Any], jinja_bytecode_cache: MemoryBytecodeCache) -> Iterator[Flask]:
    """The application bound to a fresh database."""
    from survey import create_app
    from survey.extensions import db

    application = create_app(app_config)
    application.jinja_env.bytecode_cache = jinja_bytecode_cache
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


# --- seeded database states, built once per session ---------------------------------------


@dataclass(frozen=True)
class PostgresState:
    """What one seeding step adds on PostgreSQL: rows per table and every sequence's position."""

    #: (table, rows) in dependency order, each table's rows in primary-key order: the rows this
    #: state adds to its parent state (which it leaves unchanged).
    inserts: list[tuple[Any, list[dict[str, Any]]]]
    #: Every row of every table in this state, by table name (the parent of later states).
    rows: dict[str, list[dict[str, Any]]]
    #: (qualified sequence name, value, is_called) of every sequence in the schema.
    sequences: list[tuple[str, int, bool]]


@dataclass
class DatabaseStates:
    """Seeded database states, each built once per session and backend, then reused.

    A state is a seeding step applied to a parent state (None: the migrated, empty
    database). SQLite: the step runs once on a copy of the parent's template file, and every
    test gets a copy of the result. PostgreSQL: the step runs once, on the first test's
    database, and its rows and sequence positions are captured; every later test gets the
    same rows by bulk insert and the same sequence positions by ``setval``. Either way a test
    sees exactly the database that running the step on its own fresh database would give, ids
    and sequence positions included.
    """

    folder: Path
    sqlite: dict[str, Path] = field(default_factory=dict)
    postgres: dict[str, PostgresState] = field(default_factory=dict)


@pytest.fixture(scope="session")
def database_states(tmp_path_factory: pytest.TempPathFactory) -> DatabaseStates:
    return DatabaseStates(tmp_path_factory.mktemp("states"))


def put_state(
    request: pytest.FixtureRequest,
    app: Flask,
    name: str,
    parent: str | None,
    step: Callable[[], None],
) -> None:
    """Bring ``app``'s fresh database from state ``parent`` to state ``name``.

    ``step`` writes the state's rows inside an app context (it must not commit); it runs once
    per session and backend.
    """
    from survey.extensions import db

    states: DatabaseStates = request.getfixturevalue("database_states")
    with app.app_context():
        db.session.remove()
        dialect = db.engine.dialect.name
    if dialect == "sqlite":
        template = states.sqlite.get(name)
        if template is None:
            base = (
                request.getfixturevalue("sqlite_template")
                if parent is None
                else states.sqlite[parent]
            )
            template = _build_sqlite_state(states.folder, base, name, step)
            states.sqlite[name] = template
        _replace_sqlite_database(app, template)
    elif dialect == "postgresql":
        state = states.postgres.get(name)
        if state is None:
            parent_state = None if parent is None else states.postgres[parent]
            states.postgres[name] = _build_postgres_state(app, parent_state, step)
        else:
            _restore_postgres_state(app, state)
    else:  # pragma: no cover - only the two backends are supported
        raise RuntimeError(f"no seeded states for {dialect}")


def _build_sqlite_state(folder: Path, base: Path, name: str, step: Callable[[], None]) -> Path:
    from survey import create_app
    from survey.extensions import db

    path = folder / f"{name}.db"
    shutil.copyfile(base, path)
    builder = create_app(_config(f"sqlite:///{path}", folder))
    with builder.app_context():
        step()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    _fold_wal(path)
    return path


def _replace_sqlite_database(app: Flask, template: Path) -> None:
    """Swap the (closed) database file of ``app`` for a copy of ``template``."""
    from survey.extensions import db

    with app.app_context():
        db.engine.dispose()
        database = db.engine.url.database
    assert database and database != ":memory:", "seeded states need a file database"
    path = Path(database)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)


def _build_postgres_state(
    app: Flask, parent: PostgresState | None, step: Callable[[], None]
) -> PostgresState:
    """Run ``step`` on this test's database (at state ``parent``) and capture the result."""
    from sqlalchemy import text

    from survey.extensions import db
    from survey.models import Base

    with app.app_context():
        with db.engine.connect() as conn:
            before = {
                t.name: [dict(r) for r in conn.execute(_ordered(t)).mappings()]
                for t in Base.metadata.sorted_tables
            }
        expected = parent.rows if parent is not None else {}
        if any(rows != expected.get(name, []) for name, rows in before.items()):
            raise RuntimeError("a seeded state must be built on a database at its parent state")
        step()
        db.session.commit()
        db.session.remove()
        with db.engine.connect() as conn:
            rows = {
                t.name: [dict(r) for r in conn.execute(_ordered(t)).mappings()]
                for t in Base.metadata.sorted_tables
            }
            sequences = [
                (str(name), int(value if value is not None else start), value is not None)
                for name, value, start in conn.execute(
                    text(
                        "SELECT format('%I.%I', schemaname, sequencename), last_value,"
                        " start_value FROM pg_sequences WHERE schemaname = current_schema()"
                    )
                )
            ]
    inserts: list[tuple[Any, list[dict[str, Any]]]] = []
    for table in Base.metadata.sorted_tables:
        old, new = before[table.name], rows[table.name]
        # The step may only add rows: restoring it is then a plain insert.
        if new[: len(old)] != old:
            raise RuntimeError(f"a seeding step changed existing rows of {table.name}")
        if len(new) > len(old):
            inserts.append((table, new[len(old) :]))
    return PostgresState(inserts=inserts, rows=rows, sequences=sequences)


def _ordered(table: Any) -> Any:
    from sqlalchemy import select

    return select(table).order_by(*table.primary_key.columns)


def _restore_postgres_state(app: Flask, state: PostgresState) -> None:
    """Insert the state's rows and put every sequence where the seeding step left it."""
    from sqlalchemy import text

    from survey.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        # The snapshot already holds the cells the triggers kept (report_cells,
        # answer_cells): re-inserting responses and answers must not fire them again.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table, rows in state.inserts:
            conn.execute(table.insert(), rows)
        if state.sequences:
            calls = ", ".join(
                f"setval(CAST(:n{i} AS regclass), :v{i}, :c{i})"
                for i in range(len(state.sequences))
            )
            params: dict[str, Any] = {}
            for i, (name, value, called) in enumerate(state.sequences):
                params.update({f"n{i}": name, f"v{i}": value, f"c{i}": called})
            conn.execute(text(f"SELECT {calls}"), params)


@pytest.fixture
def seeded(app: Flask, request: pytest.FixtureRequest) -> Flask:
    """Channels, the bundled questionnaire and the demo city with its collection points.

    Seeded once per session (see ``DatabaseStates``); each test still gets its own copy.
    """
    from survey.bootstrap import seed_demo_city

    put_state(request, app, "seeded", None, seed_demo_city)
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
