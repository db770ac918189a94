"""Core statements the resident's request runs straight on the database driver's cursor.

On the resident flow, whose throughput is the load benchmark's yardstick, SQLAlchemy's
execution path (cache-key lookup of the compiled statement, an execution context, parameter
and result objects) costs several times what the database needs to find a point by its code
or insert one row: about 60-130 µs a statement against 20 µs on the cursor. A
:class:`DriverStatement` is a Core statement compiled once per dialect, with the columns' own
bind and result processors (so ``UTCDateTime``, ``Boolean`` and the rest convert exactly as
through ``Connection.execute``), run on the cursor of the SQLAlchemy connection it is given,
inside that connection's transaction. Driver errors come out as SQLAlchemy's exceptions
(``IntegrityError``, ``OperationalError``, ...), and a lost server connection is invalidated,
as ``Connection.execute`` would do.

``SURVEY_DRIVER_SQL=off`` in the environment runs every statement through SQLAlchemy's
public ``Connection.execute`` instead: the A/B switch of ``benchmarks/load.py --driver-sql-ab``
(issue 22: the cursor path stays only while it saves >= 10% of server CPU per resident flow).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql import Select

Processor = Callable[[Any], Any]
#: False under ``SURVEY_DRIVER_SQL=off``: SQLAlchemy's public execution path only.
ON_CURSOR: bool = os.environ.get("SURVEY_DRIVER_SQL", "on").lower() != "off"


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for one dialect: SQL, parameter order and processors."""

    sql: str
    #: Bind names in the statement's order (positional paramstyles), None when named.
    order: tuple[str, ...] | None
    #: (bind name, processor) for the binds whose type converts values.
    binders: tuple[tuple[str, Processor], ...]
    #: One processor (or None) per result column.
    readers: tuple[Processor | None, ...]
    #: (position in ``order``, processor) of every converting bind (positional styles).
    positional: tuple[tuple[int, Processor], ...] = ()
    #: A single-row positional INSERT split before its VALUES group (see ``_values_group``).
    values_group: tuple[str, str] | None = None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values`` (bind name -> value; absent is NULL)."""
        if self.order is not None:  # the common case (SQLite): no copy of ``values``
            params = list(map(values.get, self.order))
            for index, process in self.positional:
                value = params[index]
                if value is not None:
                    params[index] = process(value)
            return tuple(params)
        if self.binders:
            values = dict(values)
            for name, process in self.binders:
                value = values.get(name)
                values[name] = None if value is None else process(value)
        return values

    def read(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """``row`` with each column converted as SQLAlchemy would."""
        return _converted(self.readers, row)


def _converted(readers: Sequence[Processor | None], row: Sequence[Any]) -> tuple[Any, ...]:
    """``row`` with each non-NULL value passed through its column's reader (if any)."""
    return tuple(
        value if read is None or value is None else read(value)
        for read, value in zip(readers, row, strict=True)
    )


def _bind_processor(bind: Any, dialect: Dialect) -> Processor | None:
    """What the bind's type does to a value before the driver gets it (None: nothing)."""
    return bind.type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


class DriverStatement:
    """A Core statement (a SELECT, or an INSERT of ``keys``) run on the driver's cursor."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = tuple(keys) if keys is not None else None
        self._by_dialect: dict[tuple[str, str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement compiled for ``dialect`` (once)."""
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key) or self._compile(dialect)
                self._by_dialect[key] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(
            dialect=dialect, column_keys=list(self.keys) if self.keys is not None else None
        )
        if getattr(compiled, "escaped_bind_names", None):
            raise ValueError("bind names that need escaping are not supported here")
        binders = []
        for name, bind in compiled.binds.items():
            process = _bind_processor(bind, dialect)
            if process is not None:
                binders.append((name, process))
        readers = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in getattr(self.statement, "exported_columns", ())
        )
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        processors = dict(binders)
        positional = tuple(
            (i, processors[name]) for i, name in enumerate(order or ()) if name in processors
        )
        sql = str(compiled)
        return _Compiled(
            sql=sql,
            order=order,
            binders=tuple(binders),
            readers=readers,
            positional=positional,
            values_group=None if order is None else _values_group(sql),
        )

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (converted), or None."""
        if not ON_CURSOR:
            found = conn.execute(self.statement, dict(values)).first()
            return None if found is None else tuple(found)
        compiled = self.compiled(conn.dialect)
        row = _run(conn, compiled.sql, compiled.parameters(values), many=False)
        return None if row is None else compiled.read(row)

    def scalar(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """The first column of the one row the statement returns (an INSERT's RETURNING)."""
        row = self.first(conn, values)
        if row is None:
            raise exc.NoResultFound("the statement returned no row")
        return row[0]

    def insert_rows(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` with this single-row INSERT: one multi-row ``VALUES`` statement
        on drivers with positional parameters (SQLite), else one ``executemany``.

        SQLite's driver runs an ``executemany`` a row at a time and lets go of the GIL
        around each row's step; under threaded workers every release hands the GIL to
        another thread and back (a futex wake and a context switch). One statement for all
        of a response's answers lets go of it once.
        """
        if not rows:
            return
        if not ON_CURSOR:
            conn.execute(self.statement, [dict(r) for r in rows])
            return
        compiled = self.compiled(conn.dialect)
        group = compiled.values_group
        if group is None or len(rows) * len(compiled.order or ()) > MAX_PARAMETERS:
            _run(conn, compiled.sql, [compiled.parameters(r) for r in rows], many=True)
            return
        head, values = group
        sql = f"{head}{', '.join([values] * len(rows))}"
        params = tuple(chain.from_iterable(compiled.parameters(r) for r in rows))
        _run(conn, sql, params, many=False)


#: Parameters of one multi-row INSERT: SQLite's limit before 3.32 (since then 32,766). A
#: response's answers take about a hundred; more rows than fit go by ``executemany``.
MAX_PARAMETERS = 999


def _values_group(sql: str) -> tuple[str, str] | None:
    """``("INSERT INTO t (a, b) VALUES ", "(?, ?)")`` for a single-row INSERT whose SQL
    ends with its one VALUES group; None otherwise (RETURNING, a SELECT)."""
    head, marker, values = sql.rpartition(" VALUES ")
    if not marker or not head.startswith("INSERT") or not values.startswith("("):
        return None
    if not values.endswith(")") or values.count("(") != 1:
        return None
    return head + marker, values


def fetch_all(conn: Connection, statement: Select[Any]) -> Sequence[Sequence[Any]]:
    """Every row of a one-off Core SELECT (a report statement: thousands of rows).

    On psycopg the rows come in PostgreSQL's binary format, as plain tuples: the server
    skips formatting every float as text and the driver parsing it back, and no ``Row`` is
    built (about 20 ms less on each of the dashboard's 6,720-row report statements at 1M
    responses). Values convert as through ``Connection.execute`` (each column's result
    processor for the type the server sent). Other drivers go through ``Connection.execute``.
    """
    if conn.dialect.driver != "psycopg" or not ON_CURSOR:
        return conn.execute(statement).all()
    dialect = conn.dialect
    compiled: Any = statement.compile(
        dialect=dialect,
        compile_kwargs={"render_postcompile": True},  # IN lists as binds
    )
    values = compiled.construct_params()
    for name, value in values.items():
        # An IN list's values are binds named after the list's own (``name_1``, ...).
        bind = compiled.binds.get(name)
        if bind is None:
            bind = compiled.binds.get(name.rsplit("_", 1)[0])
        process = None if bind is None else _bind_processor(bind, dialect)
        if process is not None and value is not None:
            values[name] = process(value)
    rows, description = _run(conn, str(compiled), values, many=False, fetch="all")
    readers = [
        column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        for column, described in zip(statement.selected_columns, description, strict=True)
    ]
    if not any(readers):
        return rows  # type: ignore[no-any-return]
    return [_converted(readers, row) for row in rows]


def _run(conn: Connection, sql: str, parameters: Any, *, many: bool, fetch: str = "one") -> Any:
    """Execute on the connection's driver cursor; the first row unless ``many``, or with
    ``fetch="all"`` every row and the cursor's description (in binary format on psycopg)."""
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = (
        dbapi_connection.cursor(binary=True)
        if fetch == "all" and conn.dialect.driver == "psycopg"
        else dbapi_connection.cursor()
    )
    try:
        if many:
            cursor.executemany(sql, parameters)
            return None
        cursor.execute(sql, parameters)
        if fetch == "all":
            return cursor.fetchall(), cursor.description
        return cursor.fetchone() if cursor.description is not None else None
    except conn.dialect.loaded_dbapi.Error as error:
        invalidated = conn.dialect.is_disconnect(error, dbapi_connection, cursor)
        if invalidated:
            conn.invalidate(error)
        raise exc.DBAPIError.instance(
            sql,
            parameters,
            error,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=conn.dialect,
        ) from error
    finally:
        cursor.close()


def begin_immediate(conn: Connection) -> None:
    """On SQLite, ``BEGIN IMMEDIATE`` unless the driver is inside a transaction already."""
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        _run(conn, "BEGIN IMMEDIATE", (), many=False)
