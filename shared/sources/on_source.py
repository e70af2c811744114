"""An answer run on the source itself (`ask --on-source`): the SQLite SQL the model wrote, transpiled
with sqlglot to the source's dialect, run in a read-only transaction with a statement timeout and a
row cap. Anything but one SELECT - several statements, DDL or DML anywhere inside, a function the
sandbox would not have (pg_sleep, dblink, ...) - is refused before it reaches the source."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from shared.sources.connection import SourceError, SourceRef, engine_for

SOURCE_TIMEOUT_MS = 10_000  # one answer's deadline on the source
WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Into,
)


class Refused(SourceError):
    """The answer is not one read-only SELECT: it never reaches the source."""


@dataclass(frozen=True)
class SourceAnswer:
    sql: str  # as the source ran it
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the cap


def transpile(sql: str, dialect: str) -> str:
    """The SQLite answer in the source's dialect; Refused unless it is one SELECT that reads only."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="sqlite") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise Refused(f"the answer does not parse as SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise Refused(f"the answer holds {len(statements)} statements; only one SELECT runs on a source")
    (statement,) = statements
    if not isinstance(statement, exp.Query):
        raise Refused(f"only a SELECT runs on a source, not {statement.key.upper()}")
    for node in statement.walk():
        if isinstance(node, WRITES):
            raise Refused(f"the answer holds {node.key.upper()}: only reads run on a source")
        if isinstance(node, exp.Anonymous):  # a function SQLite's sandbox does not know
            raise Refused(f"function {node.name}() does not run on a source")
    return statement.sql(dialect=dialect)


def run_on_source(
    ref: SourceRef,
    sqlite_sql: str,
    max_rows: int,
    timeout_ms: int = SOURCE_TIMEOUT_MS,
    engine: sa.Engine | None = None,
) -> SourceAnswer:
    """The answer's rows from the source itself (at most max_rows); SourceError saying why not."""
    sql = transpile(sqlite_sql, ref.dialect)
    own = engine is None
    engine = engine or engine_for(ref)
    try:
        with engine.connect() as connection:
            connection = _read_only(connection, engine.dialect.name, timeout_ms)
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                elif engine.dialect.name == "mysql":
                    connection.exec_driver_sql(f"SET SESSION MAX_EXECUTION_TIME = {int(timeout_ms)}")
                # psycopg and PyMySQL read % as a parameter marker even with no parameters
                sent = sql.replace("%", "%%") if engine.dialect.paramstyle in ("format", "pyformat") else sql
                with _deadline(connection, engine.dialect.name, timeout_ms):
                    result = connection.exec_driver_sql(sent)
                    columns = list(result.keys())
                    rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
                    result.close()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise SourceError(f"the source refused or failed the answer: {reason}") from None
    finally:
        if own:
            engine.dispose()
    return SourceAnswer(sql, columns, rows[:max_rows], len(rows) > max_rows)


def _read_only(connection: sa.Connection, dialect: str, timeout_ms: int) -> sa.Connection:
    if dialect == "postgresql":
        return connection.execution_options(postgresql_readonly=True)
    if dialect == "mysql":
        return connection.execution_options(mysql_readonly=True)
    return connection  # DuckDB is opened read-only; SQLite sources are files we only SELECT from


class _deadline:
    """DuckDB and SQLite have no statement timeout: the query is interrupted from a timer instead."""

    def __init__(self, connection: sa.Connection, dialect: str, timeout_ms: int) -> None:
        self.timer: threading.Timer | None = None
        if dialect in ("duckdb", "sqlite"):
            raw = connection.connection.dbapi_connection
            self.timer = threading.Timer(timeout_ms / 1000, lambda: raw.interrupt())

    def __enter__(self) -> None:
        if self.timer:
            self.timer.start()

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            self.timer.cancel()
